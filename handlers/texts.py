"""Every sentence the bot says, apart from the logic that decides when to say it (HTML parse mode)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

import phonenumbers

from providers.models import PROVIDER_NAMES, Action, ActivationWindow, Offer, OrderStatus, PremiumBidDecision, PriceChangeDecision, ProviderId
from handlers.zones import local_time, short_time, zone_label
from providers.registry import capabilities_of
from storage.records import OrderRecord, PurchaseRecord

if TYPE_CHECKING:
    from providers.models import NumberStatus, Plan

PRIVATE_ONLY = "Please talk to me in a private chat: I never handle numbers or credentials in groups."
NOT_ALLOWED = "Sorry, this bot is private and you are not on its list of users."
INTERNAL_ERROR = "Something went wrong on our side. Nothing was bought; please try again."
UNKNOWN_TEXT = "I did not understand that. Use the menu below, or /help."
CANCELLED = "Cancelled. Use /start to see the menu."
NOTHING_TO_CANCEL = "There is nothing to cancel. Use /start to see the menu."
OUTDATED_BUTTON = "This button is outdated."
NOT_YOUR_ORDER = "This order is not in this chat."
FOREIGN_BUTTON = "This button is not from this chat."
ORDER_FINISHED = "This order is already finished."
ACTION_NOT_AVAILABLE = "That is not possible for this order right now."
NO_PROVIDERS = "No provider is connected yet. Connect one to start:"
CHOOSE_PROVIDER_CONNECT = "Which provider do you want to connect?"
KIWI_ASK_KEY = (
    "Send me your <b>kiwiSMS API key</b> (dashboard → API keys, it starts with <code>lsms_</code>).\n"
    "I will delete your message right after reading it. /cancel to stop."
)
NONVOIP_ASK_EMAIL = "Send me the <b>email</b> of your NonVoipUsNumber account. /cancel to stop."
NONVOIP_ASK_PASSWORD = (
    "Now send the account's <b>password</b>. I will delete your message right after reading it. /cancel to stop."
)
GOTSMS_ASK_TOKEN = (
    "Send me your <b>GotSMS API token</b> (enable API access, then Generate Token).\n"
    "I will delete your message right after reading it. /cancel to stop."
)
CHECKING = "Checking with the provider…"
SECRET_DELETED_NOTE = "(Your message with the key was deleted from the chat.)"
CHOOSE_PROVIDER_BUY = "Buy a number — choose a provider:"
NO_ACTIVE_ORDERS = "You have no active orders. /buy rents a number."
NO_HISTORY = "No finished orders yet."
PLACING = "Placing your order…"
ALREADY_PLACING = "This order is already being placed."
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
DISCONNECTED = "{provider} disconnected. Your order history is kept."
DISCONNECT_KEPT = "Kept. Nothing changed."

STATUS_WORDS: dict[OrderStatus, str] = {
    OrderStatus.WAITING: "⏳ waiting for the SMS",
    OrderStatus.RECEIVED: "✅ code received",
    OrderStatus.COMPLETED: "☑️ done",
    OrderStatus.CANCELLED: "✖️ cancelled",
    OrderStatus.EXPIRED: "⌛ expired",
}

HELP = (
    "<b>OTP Rental Bot</b> rents phone numbers from SMS-verification providers and sends you "
    "every one-time code the moment it arrives.\n\n"
    "/start — main menu\n"
    "/connect — connect a provider account (NonVoipUsNumber, kiwiSMS, GotSMS)\n"
    "/providers — connected providers, balances, disconnect\n"
    "/balance — balances of all connected providers\n"
    "/buy — rent a number: provider → section → service → confirm\n"
    "/orders — your active orders: open one for its card and buttons\n"
    "/history — past orders, prices and codes\n"
    "/settings — your time zone for the times shown\n"
    "/cancel — leave what you are doing\n"
    "/help — this text\n\n"
    "<b>How codes arrive:</b> after you buy, I watch the order at the provider. Each SMS comes "
    "here as its own message with the code in bold and a Copy button, exactly once, even if I "
    "restart. Your keys are stored encrypted and the messages holding them are deleted."
)


def provider_name(provider: ProviderId) -> str:
    return PROVIDER_NAMES[provider]


def money(amount: Decimal) -> str:
    return f"${amount.quantize(Decimal('0.01'))}" if amount == amount.quantize(Decimal("0.01")) else f"${amount.normalize()}"


def phone(raw: str) -> str:
    """A number the one way every text shows it: international, grouped ("+1 415 555 0123"),
    HTML-escaped; input that is not a number is shown as given. Digits without "+" (how
    NonVoipUsNumber writes them) count as international only when they make a valid number."""
    text = raw.strip()
    candidate = text if text.startswith("+") else f"+{text}"
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return escape(raw)
    plausible = phonenumbers.is_possible_number(parsed) if text.startswith("+") else phonenumbers.is_valid_number(parsed)
    if not plausible:
        return escape(raw)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return escape(international.replace("-", " "))


_DURATION_UNITS = ((1440, "day"), (60, "hour"), (1, "minute"))


def duration_words(minutes: int) -> str:
    """10 -> "10 minutes", 1440 -> "1 day", 43200 -> "30 days", 90 -> "1 hour 30 minutes"."""
    parts: list[str] = []
    rest = max(0, minutes)
    for size, unit in _DURATION_UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}" + ("" if count == 1 else "s"))
        if parts and not rest:
            break
    return " ".join(parts[:2]) or "0 minutes"


def welcome(first_name: str | None, connected: bool) -> str:
    hello = f"Hi {escape(first_name)}!" if first_name else "Hi!"
    lead = (
        "Rent a number, and I send you every code as it arrives."
        if connected
        else "Rent a number, and I send you every code as it arrives. First, connect a provider account."
    )
    return f"{hello} {lead}"


def connected(provider: ProviderId, balance: Decimal) -> str:
    return f"✅ {provider_name(provider)} connected, balance {money(balance)}."


def connect_failed(provider: ProviderId, reason: str) -> str:
    return (
        f"❌ {provider_name(provider)} refused these credentials: {escape(reason)}\n"
        "Nothing was stored. Try again, or /cancel."
    )


def connect_unchecked(provider: ProviderId, reason: str) -> str:
    return (
        f"⚠️ Could not check the credentials with {provider_name(provider)}: {escape(reason)}\n"
        "Nothing was stored. Send them again in a moment, or /cancel."
    )


def credentials_rejected(provider: ProviderId) -> str:
    return (
        f"⚠️ {provider_name(provider)} no longer accepts the stored credentials, so your orders there "
        "are not being watched. /connect it again to resume."
    )


def provider_error(provider: ProviderId, reason: str) -> str:
    """A provider's refusal in a sentence, whichever screen met it."""
    return f"⚠️ {provider_name(provider)} could not do this: {escape(reason.rstrip('.'))}.\nTry again in a moment, or go back."


def balances(lines: list[tuple[ProviderId, str]]) -> str:
    body = "\n".join(f"<b>{provider_name(p)}</b>: {escape(text)}" for p, text in lines)
    return f"💰 Balances\n{body}"


def providers_overview(lines: list[tuple[ProviderId, str]]) -> str:
    body = "\n".join(f"• <b>{provider_name(p)}</b> — {escape(text)}" for p, text in lines)
    return f"Connected providers:\n{body}"


def disconnect_question(provider: ProviderId, active: int = 0) -> str:
    question = f"Disconnect {provider_name(provider)}? Its credentials are deleted; your order history stays."
    if not active:
        return question
    return f"{question}\n\n{_active_orders(provider, active)} {_NOT_FOLLOWED_WHILE}"


def _active_orders(provider: ProviderId, active: int) -> str:
    return f"⚠️ {provider_name(provider)} has <b>{active} active order{'s' if active != 1 else ''}</b>."


_NOT_FOLLOWED_WHILE = (
    "They stay in /orders, but while it is disconnected they are not followed: no code reaches this "
    "chat and their buttons say the account is gone. Connect the same account again to follow them again."
)


def account_switch_question(provider: ProviderId, active: int) -> str:
    name = provider_name(provider)
    return (
        f"These credentials belong to <b>another {name} account</b> than the one your active orders were "
        f"bought with.\n\n{_active_orders(provider, active)} If you connect this account, they stay in "
        "/orders but are no longer followed: no code reaches this chat and their buttons say the account "
        "is gone.\n\nConnect the other account?"
    )


def account_switch_kept(provider: ProviderId) -> str:
    return f"Kept: {provider_name(provider)} stays as it was. The new credentials were not stored."


ACCOUNT_SWITCH_EXPIRED = "This question has expired and the credentials were not kept. Use /connect again."


def account_gone_line(provider: ProviderId, disconnected: bool) -> str:
    """Why an order is not followed: its account is disconnected, or another account replaced it."""
    name = provider_name(provider)
    if disconnected:
        return f"⚠️ {name} is disconnected: reconnect it to follow this order."
    return f"⚠️ Bought with another {name} account, no longer connected here: this order is not followed."


def private_chat_only(has_link: bool) -> str:
    return f"{PRIVATE_ONLY} Tap below to open it." if has_link else PRIVATE_ONLY


EDITED_MESSAGE = (
    "I only read new messages, so that edit changed nothing. Send it again as a new message, or use the menu:"
)


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


def time_left(expires_at: datetime | None, now: datetime | None = None) -> str | None:
    if expires_at is None:
        return None
    seconds = int((expires_at - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return "ending now"
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


# Telegram's limit for one message's text; the card keeps well within it whatever the SMS count.
MESSAGE_LIMIT = 4096
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


def clip_message(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Within Telegram's limit. Cut at a line break and never inside an HTML tag or entity: the
    parts built here close every tag on the line that opens it."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 2)
    return text[: cut if cut > 0 else 0] + "\n…"


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


def escaped_clip(text: str, limit: int) -> str:
    """HTML-escaped and at most `limit` characters, never cutting an entity (`&amp;`) in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


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


def plan_label(plan: "Plan", with_country: bool = False) -> str:
    """`with_country`: the /buy list of a service's plans, which holds several countries."""
    renew = f", renews at {money(plan.renew_price)}" if plan.billing_type == "duration" else ""
    country = f"{plan.country} · " if with_country and plan.country else ""
    return f"{country}{plan.duration_label} · {money(plan.price)}{renew}"


def choose_plan(provider: ProviderId, service_name: str) -> str:
    return f"<b>{provider_name(provider)}</b> · {escape(service_name)}\nChoose a plan (price, duration, renewal price):"


NO_EXTENSION = "This rent has no longer plan to move to."


def woken(message: str, status: "NumberStatus", zone: tzinfo = UTC) -> str:
    parts = [message.rstrip(".") + "."]
    if status.online_till:
        parts.append(f"Online until {local_time(status.online_till, zone)}")
    if status.online_seconds_left:
        parts.append(f"({status.online_seconds_left // 60} min left).")
    elif status.wakeup_seconds_left:
        parts.append(f"Waking up: {status.wakeup_seconds_left} s left.")
    return " ".join(parts)[:190]


def auto_renewal(enabled: bool) -> str:
    return "Auto-renewal is ON: the rent renews itself at the end of the term." if enabled else "Auto-renewal is OFF."


def choose_extension(order: OrderRecord) -> str:
    return f"Extend <code>{phone(order.phone)}</code> ({escape(order.service_name)}) to a longer plan:"


def extended(order: OrderRecord) -> str:
    if order.expires_at is None:
        return "Extended."
    return f"Extended until {order.expires_at.strftime('%Y-%m-%d %H:%M')} UTC."


def refund_question(order: OrderRecord) -> str:
    return (
        f"Refund <code>{phone(order.phone)}</code> ({escape(order.service_name)})? "
        "The number is released; the provider decides whether the refund is allowed."
    )


def number_messages(order: OrderRecord, lines: list[str], older: bool, zone: tzinfo = UTC) -> str:
    head = f"📨 Messages on <code>{phone(order.phone)}</code>" + (" (older)" if older else "")
    head += f" — times in {zone_label(zone)}"
    return head + "\n" + ("\n".join(lines) if lines else "No messages.")


# Paid actions on an order: a card of their own with the amount, confirmed by its own tap.
RENEW_WHAT = "Renew: a new session on the same number"
REUSE_WHAT = "Reuse: wait for one more SMS on the same number"
NOTHING_CHARGED = "Nothing was charged."
DURATION_WORDS = {"1d": "1 day", "3d": "3 days", "7d": "7 days", "30d": "30 days"}


def renew_what(duration: str) -> str:
    return f"Renew for {DURATION_WORDS.get(duration, escape(duration))}"


def extend_what(plan: "Plan") -> str:
    return f"Extend to the {escape(plan.duration_label)} plan"


def paid_action_card(order: OrderRecord, what: str, price: Decimal | None) -> str:
    cost = f"<b>{money(price)}</b>" if price is not None else "<b>price set by the provider</b> when it charges"
    return (
        f"<b>Confirm</b>\n{what}\n"
        f"{provider_name(order.provider)} · {escape(order.service_name)} · <code>{phone(order.phone)}</code>\n"
        f"Price: {cost}\nIt is charged to your {provider_name(order.provider)} balance when you confirm."
    )


def paid_action_done(action: Action, order: OrderRecord, zone: tzinfo = UTC) -> str:
    until = f" until {local_time(order.expires_at, zone)}" if order.expires_at else ""
    done = {Action.RENEW: f"Renewed{until}.", Action.REUSE: "Reused: waiting for the next SMS.",
            Action.EXTEND: f"Extended{until}."}
    return done.get(action, "Done.")


def choose_renewal(order: OrderRecord) -> str:
    return f"Renew <code>{phone(order.phone)}</code> ({escape(order.service_name)}) for how long?"


def renewed_until(order: OrderRecord) -> str:
    if order.expires_at is None:
        return "Renewed."
    return f"Renewed until {order.expires_at.strftime('%Y-%m-%d %H:%M')} UTC."


def activation(window: ActivationWindow, zone: tzinfo = UTC) -> str:
    state = "online" if window.online else "not online yet"
    until = f" until {local_time(window.ends_at, zone)}" if window.ends_at else ""
    extra = f" {window.message}" if window.message else ""
    return f"Activated: the number is {state}{until}.{extra}"[:190]


def history_entry(order: OrderRecord, codes: list[str], zone: tzinfo = UTC) -> str:
    date = short_time(order.created_at, zone)
    code_text = codes_line(codes) if codes else "no code"
    return (
        f"{date} · {provider_name(order.provider)} · {escape(order.service_name)}\n"
        f"   <code>{phone(order.phone)}</code> · {money(order.price)} · "
        f"{STATUS_WORDS[order.status]}{refund_note(order)} · {code_text}"
    )


def history_page(entries: list[str], page: int, pages: int, zone: tzinfo = UTC) -> str:
    head = f"<b>History</b> (page {page + 1}/{pages}, newest first; times in {zone_label(zone)})"
    return clip_message(head + "\n\n" + "\n\n".join(entries))


# --- added for persisted steps / bad input ---
CREDENTIAL_OUTSIDE_STEP = (
    "🔒 That looked like an API key or token, so I deleted it. To connect a provider, use /connect first."
)
STEP_ENDED = "That step has ended, so I did not use your message. Use /connect or /buy to start again."
_CREDENTIAL_WORDS = {"api_key": "API key", "token": "API token", "email": "email address", "password": "password"}


def invalid_credential(provider: ProviderId, field_key: str) -> str:
    """A typed value that cannot be the asked-for credential (spaces, line breaks, too long)."""
    word = _CREDENTIAL_WORDS.get(field_key, field_key)
    return f"That does not look like a {provider_name(provider)} {word}. Send it again, or /cancel."
