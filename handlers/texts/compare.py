"""/buy's comparison of one service across every connected provider, and the out-of-stock fallback."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from handlers.texts.common import duration_words, money, provider_name
from providers.models import Offer, ProviderId

COMPARE_BUTTON = "🔎 Compare a service"
COMPARE_PROMPT = (
    "🔎 <b>Compare a service</b>\n"
    "Type a service name (for example <i>WhatsApp</i> or <i>Telegram</i>): I look it up at every "
    "connected provider at once, cheapest first."
)
RECENT_HINT = "Or tap one you bought before:"
NOTHING_TYPED = "Type a service name to compare."
UNREACHABLE = "not reachable now"


def offer_facts(offer: Offer, allows: Sequence[str]) -> str:
    """Price, stock, duration (or plan) and what the number allows, in one line."""
    parts = [f"<b>{money(offer.price)}</b>"]
    if offer.stock is not None:
        parts.append(f"{offer.stock} left")
    if offer.plan_id is not None:
        parts.append(f"plan: {escape(offer.country)} {duration_words(offer.duration_minutes or 0)}"
                     if offer.duration_minutes else f"plan: {escape(offer.country)}")
    elif offer.duration_minutes:
        parts.append(duration_words(offer.duration_minutes))
    if allows:
        parts.append(", ".join(allows))
    return " · ".join(parts)


def where(provider: ProviderId, section_title: str) -> str:
    return f"{provider_name(provider)} · {escape(section_title)}"


def compared_line(position: int, provider: ProviderId, section_title: str, offer: Offer, allows: Sequence[str]) -> str:
    return f"{position}. {where(provider, section_title)} — {escape(offer.name)}: {offer_facts(offer, allows)}"


def out_of_stock_line(provider: ProviderId, section_title: str, offer: Offer) -> str:
    return f"· {where(provider, section_title)} — {escape(offer.name)}: out of stock"


def failure_line(provider: ProviderId, reason: str) -> str:
    return f"⚠️ {provider_name(provider)}: {escape(reason)}"


def comparison(query: str, lines: Sequence[str], more: int, sold_out: Sequence[str], failures: Sequence[str]) -> str:
    head = f"🔎 <b>{escape(query)}</b> at your providers, cheapest first:"
    if not lines:
        head = f"🔎 No provider has <b>{escape(query)}</b> in stock right now."
    body = [head, *lines, *([f"…and {more} more, dearer."] if more > 0 else [])]
    if sold_out:
        body += ["", *sold_out]
    if failures:
        body += ["", *failures]
    body += ["", "Tap an offer for its confirmation card; nothing is bought before you confirm."] if lines else []
    return "\n".join(body)


def offer_button(position: int, provider: ProviderId, section_title: str, price: Decimal) -> str:
    return f"{position}. {provider_name(provider)} {section_title} · {money(price)}"


def fallback_button(provider: ProviderId, section_title: str, price: Decimal) -> str:
    return f"Try {provider_name(provider)} {section_title} at {money(price)}"


FALLBACK_NOTE = "Another provider has it:"
