"""An order as the chat sees it: its card, each SMS, notices and reminders, messages, history."""

from __future__ import annotations

from datetime import UTC, tzinfo
from html import escape

from handlers.texts.common import clip_message, duration_words, escaped_clip, money, phone, provider_name, time_left
from handlers.zones import local_time, short_time, zone_label
from providers.models import Action, OrderStatus
from providers.registry import capabilities_of
from storage.records import OrderRecord


ORDER_FINISHED = "This order is already finished."
ACTION_NOT_AVAILABLE = "That is not possible for this order right now."
NO_ACTIVE_ORDERS = "You have no active orders. /buy rents a number."
NO_HISTORY = "No finished orders yet."
STATUS_WORDS: dict[OrderStatus, str] = {
    OrderStatus.WAITING: "⏳ waiting for the SMS",
    OrderStatus.RECEIVED: "✅ code received",
    OrderStatus.COMPLETED: "☑️ done",
    OrderStatus.CANCELLED: "✖️ cancelled",
    OrderStatus.EXPIRED: "⌛ expired",
}
CARD_CODES_SHOWN = 5  # the latest codes on the card; all of them are in Messages and /history
_CODE_CLIP = 64  # a "code" that is really a long SMS text is clipped on the card


def order_card(order: OrderRecord, codes: list[str], zone: tzinfo = UTC, account_gone: str | None = None) -> str:
    """An order as the chat sees it; times in the chat's `zone`, named."""
    lines = [
        f"<b>{provider_name(order.provider)}</b> · {escape(order.service_name)}",
        f"📱 <code>{phone(order.phone)}</code>",
    ]
    if order.plan:
        lines.append(f"Plan: {escape(order.plan)}")
    elif order.duration_minutes:  # in the confirmation card's words
        lines.append(f"Duration: {duration_words(order.duration_minutes)}")
    # A code arrived: never "waiting for the SMS", whatever the provider's status says.
    status = OrderStatus.RECEIVED if codes and order.status is OrderStatus.WAITING else order.status
    lines += [
        f"Paid so far: {money(order.price)}",
        f"Status: {STATUS_WORDS[status]}{refund_note(order)}",
    ]
    if order.auto_renew is not None and Action.AUTO_RENEW in capabilities_of(order.provider).order_actions(
        order.status, order.section
    ):
        lines.append(f"Auto-renewal: {'on' if order.auto_renew else 'off'}")
    if order.expires_at is not None and not order.status.is_final:
        # Rendered at every edit, so time left is as of the latest edit.
        lines.append(f"Ends: {local_time(order.expires_at, zone)}")
        lines.append(f"Time left: {time_left(order.expires_at)}")
    if codes:
        lines.append(codes_line(codes))
    lines.append(f"Order #{order.id}")
    if account_gone:  # handlers/accounts.py: its account is disconnected or replaced
        lines.append(account_gone)
    return clip_message("\n".join(lines))


def codes_line(codes: list[str]) -> str:
    """The latest codes, newest last, and how many more there are."""
    shown = codes[-CARD_CODES_SHOWN:]
    parts = ", ".join(f"<code>{escape(_clip(c, _CODE_CLIP))}</code>" for c in shown)
    more = len(codes) - len(shown)
    return f"Codes: {parts}" + (f" (and {more} more: all in Messages)" if more else "")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refund_note(order: OrderRecord) -> str:
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        if order.refunded is True:
            return " — refunded"
        if order.refunded is False:
            return " — not refunded"
    return ""


SMS_TEXT_LIMIT = 3500  # room for the header lines within MESSAGE_LIMIT, after HTML escaping


def code_message(order: OrderRecord, code: str | None, text: str, service_name: str | None = None) -> str:
    """One SMS: the code in bold, its own service (one number may serve several), the number, the text."""
    head = f"🔑 <b>{escape(_clip(code, _CODE_CLIP))}</b>" if code else "✉️ <b>New SMS</b>"
    lines = [
        head,
        f"Service: {escape(service_name or order.service_name)}",
        f"Number: <code>{phone(order.phone)}</code>",
    ]
    if text:
        lines.append(f"SMS: {escaped_clip(text, SMS_TEXT_LIMIT)}")
    return clip_message("\n".join(lines))


def finished_notice(order: OrderRecord, status: OrderStatus, refunded: bool | None, had_code: bool) -> str:
    what = f"<code>{phone(order.phone)}</code> ({escape(order.service_name)})"
    if status is OrderStatus.EXPIRED:
        money_note = {True: "refunded by the provider", False: "not refunded", None: "refund unknown"}[refunded]
        got = "after its code" if had_code else "without a code"
        return f"⌛ Order #{order.id}: {what} expired {got} — {money_note}."
    if status is OrderStatus.CANCELLED:
        money_note = " — refunded" if refunded else ""
        return f"✖️ Order #{order.id}: {what} was cancelled on the provider's side{money_note}."
    return f"☑️ Order #{order.id}: {what} has ended at the provider."


def rent_ending(order: OrderRecord) -> str:
    left = time_left(order.expires_at) or "soon"
    return (
        f"⏰ Order #{order.id}: the rent of <code>{phone(order.phone)}</code> ({escape(order.service_name)}) "
        f"ends in {left}. Renew it to keep the number."
    )


def number_messages(order: OrderRecord, lines: list[str], older: bool, zone: tzinfo = UTC) -> str:
    head = f"📨 Messages on <code>{phone(order.phone)}</code>" + (" (older)" if older else "")
    head += f" — times in {zone_label(zone)}"
    return head + "\n" + ("\n".join(lines) if lines else "No messages.")


def history_entry(order: OrderRecord, codes: list[str], zone: tzinfo = UTC) -> str:
    date = short_time(order.created_at, zone)
    code_text = codes_line(codes) if codes else "no code"
    return (
        f"{date} · {provider_name(order.provider)} · {escape(order.service_name)}\n"
        f"   <code>{phone(order.phone)}</code> · {money(order.price)} · "
        f"{STATUS_WORDS[order.status]}{refund_note(order)} · {code_text}"
    )
