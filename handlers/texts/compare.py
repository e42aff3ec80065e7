"""/buy's comparison of one service across every connected provider, and the out-of-stock fallback."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from handlers.i18n import _, ngettext, pgettext
from handlers.texts.common import duration_words, money, provider_name, provider_words
from providers.models import Offer, ProviderId


def compare_button() -> str:
    return _("🔎 Compare a service")


def compare_prompt() -> str:
    return _(
        "🔎 <b>Compare a service</b>\n"
        "Type a service name (for example <i>WhatsApp</i> or <i>Telegram</i>): I look it up at every "
        "connected provider at once, cheapest first."
    )


def recent_hint() -> str:
    return _("Or tap one you bought before:")


def nothing_typed() -> str:
    return _("Type a service name to compare.")


def unreachable() -> str:
    return _("not reachable now")


def allowed_words(reuse: bool, renew: bool, refund: bool) -> list[str]:
    """What a number bought there allows, in words ("reuse", "renew", "refund")."""
    found: list[str] = []
    if reuse:
        found.append(pgettext("number allows", "reuse"))
    if renew:
        found.append(pgettext("number allows", "renew"))
    if refund:
        found.append(pgettext("number allows", "refund"))
    return found


def offer_facts(offer: Offer, allows: Sequence[str]) -> str:
    """Price, stock, duration (or plan) and what the number allows, in one line."""
    parts = [f"<b>{money(offer.price)}</b>"]
    if offer.stock is not None:
        parts.append(ngettext("{count} left", "{count} left", offer.stock).format(count=offer.stock))
    if offer.plan_id is not None:
        if offer.duration_minutes:
            parts.append(_("plan: {country} {duration}").format(
                country=escape(offer.country), duration=duration_words(offer.duration_minutes)))
        else:
            parts.append(_("plan: {country}").format(country=escape(offer.country)))
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
    return _("· {place} — {service}: out of stock").format(place=where(provider, section_title),
                                                          service=escape(offer.name))


def failure_line(provider: ProviderId, reason: str) -> str:
    return f"⚠️ {provider_name(provider)}: {escape(provider_words(reason))}"


def comparison(query: str, lines: Sequence[str], more: int, sold_out: Sequence[str], failures: Sequence[str]) -> str:
    head = _("🔎 <b>{service}</b> at your providers, cheapest first:").format(service=escape(query))
    if not lines:
        head = _("🔎 No provider has <b>{service}</b> in stock right now.").format(service=escape(query))
    more_line = ngettext("…and {count} more, dearer.", "…and {count} more, dearer.", more).format(count=more)
    body = [head, *lines, *([more_line] if more > 0 else [])]
    if sold_out:
        body += ["", *sold_out]
    if failures:
        body += ["", *failures]
    body += ["", _("Tap an offer for its confirmation card; nothing is bought before you confirm.")] if lines else []
    return "\n".join(body)


def offer_button(position: int, provider: ProviderId, section_title: str, price: Decimal) -> str:
    return f"{position}. {provider_name(provider)} {section_title} · {money(price)}"


def fallback_button(provider: ProviderId, section_title: str, price: Decimal) -> str:
    return _("Try {provider} {section} at {price}").format(
        provider=provider_name(provider), section=section_title, price=money(price)
    )


def fallback_note() -> str:
    return _("Also available:")
