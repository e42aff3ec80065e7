"""An order as the chat sees it: its card, each SMS, notices and reminders, messages, history."""

from __future__ import annotations

from datetime import UTC, tzinfo
from html import escape

from handlers.i18n import N_, _, ngettext, pgettext
from handlers.texts.common import clip_message, duration_words, escaped_clip, money, phone, provider_name, time_left
from handlers.zones import local_time, short_time, zone_label
from providers.models import Action, OrderStatus
from providers.registry import capabilities_of
from storage.records import OrderRecord


def order_finished() -> str:
    return _("This order is already finished.")


def action_not_available() -> str:
    return _("That is not possible for this order right now.")


def no_active_orders() -> str:
    return _("You have no active orders. /buy rents a number.")


def no_history() -> str:
    return _("No finished orders yet.")
# English (marked for extraction); `status_words` says them in the chat's language.
STATUS_WORDS: dict[OrderStatus, str] = {
    OrderStatus.WAITING: N_("⏳ waiting for the SMS"),
    OrderStatus.RECEIVED: N_("✅ code received"),
    OrderStatus.COMPLETED: N_("☑️ done"),
    OrderStatus.CANCELLED: N_("✖️ cancelled"),
    OrderStatus.EXPIRED: N_("⌛ expired"),
}


def status_words(status: OrderStatus) -> str:
    """An order's status as the card, the lists and /history show it, in the current language."""
    return _(STATUS_WORDS[status])


CARD_CODES_SHOWN = 5  # the latest codes on the card; all of them are in Messages and /history
_CODE_CLIP = 64  # a "code" that is really a long SMS text is clipped on the card


def order_card(order: OrderRecord, codes: list[str], zone: tzinfo = UTC, account_gone: str | None = None) -> str:
    """An order as the chat sees it; times in the chat's `zone`, named."""
    lines = [
        f"<b>{provider_name(order.provider)}</b> · {escape(order.service_name)}",
        f"📱 <code>{phone(order.phone)}</code>",
    ]
    if order.plan:
        lines.append(_("Plan: {plan}").format(plan=escape(order.plan)))
    elif order.duration_minutes:  # in the confirmation card's words
        lines.append(_("Duration: {duration}").format(duration=duration_words(order.duration_minutes)))
    # A code arrived: never "waiting for the SMS", whatever the provider's status says.
    status = OrderStatus.RECEIVED if codes and order.status is OrderStatus.WAITING else order.status
    lines += [
        _("Paid so far: {amount}").format(amount=money(order.price)),
        _("Status: {status}").format(status=status_words(status) + refund_note(order)),
    ]
    if order.auto_renew is not None and Action.AUTO_RENEW in capabilities_of(order.provider).order_actions(
        order.status, order.section
    ):
        lines.append(_("Auto-renewal: on") if order.auto_renew else _("Auto-renewal: off"))
    if order.expires_at is not None and not order.status.is_final:
        # Rendered at every edit, so time left is as of the latest edit.
        lines.append(_("Ends: {time}").format(time=local_time(order.expires_at, zone)))
        lines.append(_("Time left: {time_left}").format(time_left=time_left(order.expires_at)))
    if codes:
        lines.append(codes_line(codes))
    lines.append(_("Order #{order_id}").format(order_id=order.id))
    if account_gone:  # handlers/accounts.py: its account is disconnected or replaced
        lines.append(account_gone)
    return clip_message("\n".join(lines))


def codes_line(codes: list[str]) -> str:
    """The latest codes, newest last, and how many more there are."""
    shown = codes[-CARD_CODES_SHOWN:]
    parts = ", ".join(f"<code>{escape(_clip(c, _CODE_CLIP))}</code>" for c in shown)
    more = len(codes) - len(shown)
    if not more:
        return _("Codes: {codes}").format(codes=parts)
    return ngettext(
        "Codes: {codes} (and {count} more: all in Messages)", "Codes: {codes} (and {count} more: all in Messages)", more
    ).format(codes=parts, count=more)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refund_note(order: OrderRecord) -> str:
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        if order.refunded is True:
            return _(" — refunded")
        if order.refunded is False:
            return _(" — not refunded")
    return ""


SMS_TEXT_LIMIT = 3500  # room for the header lines within MESSAGE_LIMIT, after HTML escaping


def code_message(order: OrderRecord, code: str | None, text: str, service_name: str | None = None) -> str:
    """One SMS: the code in bold, its own service (one number may serve several), the number, the text."""
    head = f"🔑 <b>{escape(_clip(code, _CODE_CLIP))}</b>" if code else _("✉️ <b>New SMS</b>")
    lines = [
        head,
        _("Service: {service}").format(service=escape(service_name or order.service_name)),
        _("Number: <code>{number}</code>").format(number=phone(order.phone)),
    ]
    if text:
        lines.append(_("SMS: {text}").format(text=escaped_clip(text, SMS_TEXT_LIMIT)))
    return clip_message("\n".join(lines))


def finished_notice(order: OrderRecord, status: OrderStatus, refunded: bool | None, had_code: bool) -> str:
    what = f"<code>{phone(order.phone)}</code> ({escape(order.service_name)})"
    if status is OrderStatus.EXPIRED:
        refund = {True: _("refunded by the provider"), False: _("not refunded"), None: _("refund unknown")}[refunded]
        if had_code:
            sentence = _("⌛ Order #{order_id}: {number} expired after its code — {refund}.")
        else:
            sentence = _("⌛ Order #{order_id}: {number} expired without a code — {refund}.")
        return sentence.format(order_id=order.id, number=what, refund=refund)
    if status is OrderStatus.CANCELLED:
        if refunded:
            sentence = _("✖️ Order #{order_id}: {number} was cancelled on the provider's side — refunded.")
        else:
            sentence = _("✖️ Order #{order_id}: {number} was cancelled on the provider's side.")
        return sentence.format(order_id=order.id, number=what)
    return _("☑️ Order #{order_id}: {number} has ended at the provider.").format(order_id=order.id, number=what)


def rent_ending(order: OrderRecord) -> str:
    left = time_left(order.expires_at) or pgettext("ends in", "soon")
    return _(
        "⏰ Order #{order_id}: the rent of <code>{phone}</code> ({service}) ends in {time_left}."
        " Renew it to keep the number."
    ).format(order_id=order.id, phone=phone(order.phone), service=escape(order.service_name), time_left=left)


def number_messages(order: OrderRecord, lines: list[str], older: bool, zone: tzinfo = UTC) -> str:
    if older:
        head = _("📨 Messages on <code>{phone}</code> (older) — times in {zone}")
    else:
        head = _("📨 Messages on <code>{phone}</code> — times in {zone}")
    head = head.format(phone=phone(order.phone), zone=zone_label(zone))
    return head + "\n" + ("\n".join(lines) if lines else _("No messages."))


def history_entry(order: OrderRecord, codes: list[str], zone: tzinfo = UTC) -> str:
    date = short_time(order.created_at, zone)
    code_text = codes_line(codes) if codes else _("no code")
    return (
        f"{date} · {provider_name(order.provider)} · {escape(order.service_name)}\n"
        f"   <code>{phone(order.phone)}</code> · {money(order.price)} · "
        f"{status_words(order.status)}{refund_note(order)} · {code_text}"
    )
