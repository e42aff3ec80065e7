"""/buy: sections, service lists, offers and plans, the confirmation card, and what a purchase came to."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from handlers.texts.common import duration_words, money, provider_name
from providers.models import Offer, PremiumBidDecision, PriceChangeDecision, ProviderId
from providers.registry import capabilities_of
from storage.records import PurchaseRecord

if TYPE_CHECKING:
    from providers.models import Plan


CHOOSE_PROVIDER_BUY = "Buy a number — choose a provider, or type a service name to compare it everywhere:"
PLACING = "Placing your order…"
ALREADY_PLACING = "This order is already being placed."
AUCTION_WON = "✅ A premium bid won a number:"  # the header of a won order no purchase waited for
ALREADY_PLACED = "This order was already placed; see its card below or /orders."
PURCHASE_DROPPED = "Purchase cancelled. Nothing was bought."
PURCHASE_CLOSED = "This confirmation is no longer valid. Use /buy to start again."
RECONCILED = "✅ The order that could not be confirmed earlier did go through:"


def purchase_unconfirmed(purchase: PurchaseRecord) -> str:
    """Said once when a purchase's outcome cannot be found: plainly, with where to check."""
    where = capabilities_of(purchase.provider).order_page_url
    check = f'<a href="{escape(where, quote=True)}">your orders at {provider_name(purchase.provider)}</a>' if where \
        else f"your orders at {provider_name(purchase.provider)}"
    return (
        f"⚠️ I could not confirm your order of <b>{escape(purchase.service_name)}</b> "
        f"({money(purchase.price)}) at {provider_name(purchase.provider)}: it <b>may have been charged</b>.\n"
        f"Please check {check} before buying again. If it is not there, you can buy again below "
        "(you will confirm the price first)."
    )


PURCHASE_BEING_CHECKED = "This order's outcome is being checked; see /orders."
PURCHASE_PENDING_CHECK = (
    "⚠️ I could not confirm whether the order went through (the provider did not answer in time).\n"
    "I am looking for it in your provider's order list: if it was placed, its card appears here "
    "by itself. Please do not buy it again meanwhile."
)
TOO_MANY_SERVICES = "At most {limit} services can share one number."
NOTHING_SELECTED = "Select at least one service first."
FILTER_HINT = "Type part of a name to filter."
NO_MATCH = "No service matches “{query}”. Type another name, or clear the filter."
SOLD_OUT = "Sold out: choose another service."
STALE_SELECTION = "That selection was from an earlier list and was not kept. Select the services again."
SELECTION_RESTARTED = "The earlier selection on this list was not kept: selected now {count}."


def choose_section(provider: ProviderId) -> str:
    return f"<b>{provider_name(provider)}</b> — choose a country:" if provider is ProviderId.KIWI else f"<b>{provider_name(provider)}</b> — choose a section:"


def services_page(
    provider: ProviderId,
    section_title: str,
    page: int,
    pages: int,
    query: str | None,
    multi_limit: int = 0,
    selected: int = 0,
) -> str:
    filtered = f" matching “{escape(query)}”" if query else ""
    multi = (
        f"\nTap up to {multi_limit} services to share one number, then Continue. Selected: {selected}."
        if multi_limit
        else ""
    )
    return (
        f"<b>{provider_name(provider)}</b> · {escape(section_title)}\n"
        f"Services{filtered} (page {page + 1}/{pages}). {FILTER_HINT}{multi}"
    )


def offer_label(offer: Offer, price_is_minimum: bool = False) -> str:
    """`price_is_minimum`: the price is the cheapest of several plans ("from $x")."""
    if offer.stock == 0:
        return f"{offer.name} · sold out"
    stock = "" if offer.stock is None else f" · {offer.stock} left"
    price = f"from {money(offer.price)}" if price_is_minimum else money(offer.price)
    return f"{offer.name} · {price}{stock}"


def confirmation(purchase: PurchaseRecord, section_title: str, country: str | None = None) -> str:
    """The card before a purchase; `section_title` is left out where it only repeats the country."""
    lines = ["<b>Confirm your order</b>", f"Provider: {provider_name(purchase.provider)}"]
    if country:
        lines.append(f"Country: {escape(country)}")
    if section_title != country:
        lines.append(f"Where: {escape(section_title)}")
    lines += [f"Service: {escape(purchase.service_name)}", f"Price: <b>{money(purchase.price)}</b>"]
    if purchase.duration_minutes:
        lines.append(f"Duration: {duration_words(purchase.duration_minutes)}")
    if purchase.stock is not None:
        lines.append(f"In stock: {purchase.stock}")
    return "\n".join(lines)


def price_change(purchase: PurchaseRecord, decision: PriceChangeDecision) -> str:
    quoted = decision.quoted_price if decision.quoted_price is not None else purchase.price
    return (
        f"💱 <b>The price changed</b> for {escape(purchase.service_name)} at {provider_name(purchase.provider)}.\n"
        f"Quoted: {money(quoted)}\nAvailable now: <b>{money(decision.available_price)}</b>\n"
        "Nothing was bought. Accept the new price, or cancel."
    )


def premium_bid(purchase: PurchaseRecord, decision: PremiumBidDecision) -> str:
    return (
        f"⭐ No regular number for {escape(purchase.service_name)} right now, but a premium bid of "
        f"<b>+{decision.recommended_bid}%</b> over {money(purchase.price)} is likely to get one.\n"
        "Nothing was bought. Bid, or cancel."
    )


def purchase_failed(provider: ProviderId, reason: str) -> str:
    return f"❌ The order was not placed — {provider_name(provider)}: {escape(reason)}\nNothing was charged."


def plan_label(plan: "Plan", with_country: bool = False) -> str:
    """`with_country`: the /buy list of a service's plans, which holds several countries."""
    renew = f", renews at {money(plan.renew_price)}" if plan.billing_type == "duration" else ""
    country = f"{plan.country} · " if with_country and plan.country else ""
    return f"{country}{plan.duration_label} · {money(plan.price)}{renew}"


def choose_plan(provider: ProviderId, service_name: str) -> str:
    return f"<b>{provider_name(provider)}</b> · {escape(service_name)}\nChoose a plan (price, duration, renewal price):"
