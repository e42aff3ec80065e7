"""/buy: sections, service lists, offers and plans, the confirmation card, and what a purchase came to."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from handlers.i18n import _, ngettext
from handlers.texts.common import duration_words, money, provider_name, provider_words
from providers.models import Offer, PremiumBidDecision, PriceChangeDecision, ProviderId
from providers.registry import capabilities_of
from storage.records import PurchaseRecord

if TYPE_CHECKING:
    from providers.models import Plan


def choose_provider_buy() -> str:
    return _("Buy a number — choose a provider, or type a service name to compare it everywhere:")


def placing() -> str:
    return _("Placing your order…")


def already_placing() -> str:
    return _("This order is already being placed.")


# the header of a won order no purchase waited for
def auction_won() -> str:
    return _("✅ A premium bid won a number:")


def already_placed() -> str:
    return _("This order was already placed; see its card below or /orders.")


def purchase_dropped() -> str:
    return _("Purchase cancelled. Nothing was bought.")


def purchase_closed() -> str:
    return _("This confirmation is no longer valid. Use /buy to start again.")


def reconciled() -> str:
    return _("✅ The order that could not be confirmed earlier did go through:")


def purchase_unconfirmed(purchase: PurchaseRecord) -> str:
    """Said once when a purchase's outcome cannot be found: plainly, with where to check."""
    where = capabilities_of(purchase.provider).order_page_url
    orders_there = _("your orders at {provider}").format(provider=provider_name(purchase.provider))
    check = f'<a href="{escape(where, quote=True)}">{orders_there}</a>' if where else orders_there
    return _(
        "⚠️ I could not confirm your order of <b>{service}</b> "
        "({price}) at {provider}: it <b>may have been charged</b>.\n"
        "Please check {where} before buying again. If it is not there, you can buy again below "
        "(you will confirm the price first)."
    ).format(service=escape(purchase.service_name), price=money(purchase.price),
             provider=provider_name(purchase.provider), where=check)


def purchase_being_checked() -> str:
    return _("This order's outcome is being checked; see /orders.")


def purchase_pending_check() -> str:
    return _(
        "⚠️ I could not confirm whether the order went through (the provider did not answer in time).\n"
        "I am looking for it in your provider's order list: if it was placed, its card appears here "
        "by itself. Please do not buy it again meanwhile."
    )


def too_many_services() -> str:
    return _("At most {limit} services can share one number.")


def nothing_selected() -> str:
    return _("Select at least one service first.")


def filter_hint() -> str:
    return _("Type part of a name to filter.")


def no_match() -> str:
    return _("No service matches “{query}”. Type another name, or clear the filter.")


def sold_out() -> str:
    return _("Sold out: choose another service.")


def stale_selection() -> str:
    return _("That selection was from an earlier list and was not kept. Select the services again.")


def selection_restarted() -> str:
    return _("The earlier selection on this list was not kept: selected now {count}.")


def choose_section(provider: ProviderId) -> str:
    if provider is ProviderId.KIWI:
        return _("<b>{provider}</b> — choose a country:").format(provider=provider_name(provider))
    return _("<b>{provider}</b> — choose a section:").format(provider=provider_name(provider))


def services_page(
    provider: ProviderId,
    section_title: str,
    page: int,
    pages: int,
    query: str | None,
    multi_limit: int = 0,
    selected: int = 0,
) -> str:
    where = f"<b>{provider_name(provider)}</b> · {escape(section_title)}"
    if query:
        listing = _("Services matching “{query}” (page {page}/{pages}). {hint}").format(
            query=escape(query), page=page + 1, pages=pages, hint=filter_hint()
        )
    else:
        listing = _("Services (page {page}/{pages}). {hint}").format(page=page + 1, pages=pages, hint=filter_hint())
    lines = [where, listing]
    if multi_limit:
        lines.append(
            _("Tap up to {limit} services to share one number, then Continue. Selected: {selected}.").format(
                limit=multi_limit, selected=selected
            )
        )
    return "\n".join(lines)


def offer_label(offer: Offer, price_is_minimum: bool = False) -> str:
    """`price_is_minimum`: the price is the cheapest of several plans ("from $x")."""
    if offer.stock == 0:
        return _("{service} · sold out").format(service=offer.name)
    price = _("from {price}").format(price=money(offer.price)) if price_is_minimum else money(offer.price)
    parts = [offer.name, price]
    if offer.stock is not None:
        parts.append(ngettext("{count} left", "{count} left", offer.stock).format(count=offer.stock))
    return " · ".join(parts)


def confirmation(purchase: PurchaseRecord, section_title: str, country: str | None = None) -> str:
    """The card before a purchase; `section_title` is left out where it only repeats the country."""
    lines = [_("<b>Confirm your order</b>"), _("Provider: {provider}").format(provider=provider_name(purchase.provider))]
    if country:
        lines.append(_("Country: {country}").format(country=escape(country)))
    if section_title != country:
        lines.append(_("Where: {section}").format(section=escape(section_title)))
    lines += [
        _("Service: {service}").format(service=escape(purchase.service_name)),
        _("Price: <b>{price}</b>").format(price=money(purchase.price)),
    ]
    if purchase.duration_minutes:
        lines.append(_("Duration: {duration}").format(duration=duration_words(purchase.duration_minutes)))
    if purchase.stock is not None:
        lines.append(_("In stock: {count}").format(count=purchase.stock))
    return "\n".join(lines)


def price_change(purchase: PurchaseRecord, decision: PriceChangeDecision) -> str:
    quoted = decision.quoted_price if decision.quoted_price is not None else purchase.price
    return _(
        "💱 <b>The price changed</b> for {service} at {provider}.\n"
        "Quoted: {quoted}\nAvailable now: <b>{available}</b>\n"
        "Nothing was bought. Accept the new price, or cancel."
    ).format(service=escape(purchase.service_name), provider=provider_name(purchase.provider),
             quoted=money(quoted), available=money(decision.available_price))


def premium_bid(purchase: PurchaseRecord, decision: PremiumBidDecision) -> str:
    return _(
        "⭐ No regular number for {service} right now, but a premium bid of "
        "<b>+{percent}%</b> over {price} is likely to get one.\n"
        "Nothing was bought. Bid, or cancel."
    ).format(service=escape(purchase.service_name), percent=decision.recommended_bid, price=money(purchase.price))


def purchase_failed(provider: ProviderId, reason: str) -> str:
    return _("❌ The order was not placed — {provider}: {reason}\nNothing was charged.").format(
        provider=provider_name(provider), reason=escape(provider_words(reason))
    )


def plan_label(plan: "Plan", with_country: bool = False) -> str:
    """`with_country`: the /buy list of a service's plans, which holds several countries."""
    country = f"{plan.country} · " if with_country and plan.country else ""
    if plan.billing_type == "duration":
        return country + _("{duration} · {price}, renews at {renew_price}").format(
            duration=plan.duration_label, price=money(plan.price), renew_price=money(plan.renew_price)
        )
    return f"{country}{plan.duration_label} · {money(plan.price)}"


def choose_plan(provider: ProviderId, service_name: str) -> str:
    return _("<b>{provider}</b> · {service}\nChoose a plan (price, duration, renewal price):").format(
        provider=provider_name(provider), service=escape(service_name)
    )
