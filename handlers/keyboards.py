"""Inline keyboards as pure functions: no network, no database."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from handlers import callbacks as cb
from handlers import texts
from providers.models import Action, Offer, Plan, ProviderId, Section
from providers.registry import capabilities_of
from storage.records import OrderRecord, PurchaseRecord

PAGE_SIZE = 8
CONNECT_ORDER = (ProviderId.NONVOIP, ProviderId.KIWI, ProviderId.GOTSMS)
# Only providers with a working client can be connected or bought from.
SUPPORTED = frozenset({ProviderId.KIWI, ProviderId.NONVOIP, ProviderId.GOTSMS})

_ACTION_LABELS: dict[Action, str] = {
    Action.CANCEL: "Cancel",
    Action.REJECT: "Reject",
    Action.DONE: "Done",
    Action.REUSE: "Reuse",
    Action.ACTIVATE: "Activate",
    Action.RENEW: "Renew",
    Action.WAKE_UP: "Wake up",
    Action.AUTO_RENEW: "Auto-renewal on/off",
    Action.EXTEND: "Extend",
    Action.REFUND: "Refund",
    Action.MESSAGES: "Messages",
    Action.REFRESH: "Refresh",
}


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def main_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button("Buy a number", cb.menu("buy")), _button("My orders", cb.menu("orders"))],
            [_button("Balance", cb.menu("balance")), _button("Providers", cb.menu("providers"))],
            [_button("History", cb.menu("history")), _button("Help", cb.menu("help"))],
        ]
    )


def connect_first() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button("Connect a provider", cb.menu("connect"))]])


def connect_providers() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(texts.provider_name(p), cb.connect(p))] for p in CONNECT_ORDER]
    )


def providers_list(connected: Sequence[ProviderId]) -> InlineKeyboardMarkup:
    rows = [[_button(f"Disconnect {texts.provider_name(p)}", cb.disconnect_ask(p))] for p in connected]
    rows.append([_button("Connect another", cb.menu("connect"))])
    return InlineKeyboardMarkup(rows)


def disconnect_confirm(provider: ProviderId) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button("Yes, disconnect", cb.disconnect_yes(provider)), _button("Keep", cb.disconnect_no())]]
    )


def buy_providers(connected: Sequence[ProviderId]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(texts.provider_name(p), cb.buy_provider(p))] for p in connected]
    )


def sections(provider: ProviderId, items: Sequence[Section]) -> InlineKeyboardMarkup:
    buttons = [_button(s.title, cb.buy_page(provider, s.id, 0)) for s in items]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def page_count_for(total: int, size: int) -> int:
    return max(1, (total + size - 1) // size)


def page_count(total: int) -> int:
    return page_count_for(total, PAGE_SIZE)


def services(
    provider: ProviderId, section: str, offers: Sequence[Offer], page: int, selected: Sequence[str] | None = None
) -> InlineKeyboardMarkup:
    """One page of offers (the caller clamps `page`), with ◀ ▶ when there is more than one.

    With `selected` (a multi-select section) a tap toggles a service, and Continue goes on.
    """
    start = page * PAGE_SIZE
    rows = [
        [
            _button(texts.offer_label(o), cb.buy_offer(provider, section, o.service_id))
            if selected is None
            else _button(
                ("✅ " if o.service_id in selected else "") + texts.offer_label(o),
                cb.buy_toggle(provider, section, o.service_id, page),
            )
        ]
        for o in offers[start : start + PAGE_SIZE]
    ]
    pages = page_count(len(offers))
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_button("◀", cb.buy_page(provider, section, page - 1)))
        nav.append(_button(f"{page + 1}/{pages}", cb.NOOP))
        if page < pages - 1:
            nav.append(_button("▶", cb.buy_page(provider, section, page + 1)))
        rows.append(nav)
    if selected:
        rows.append([_button(f"Continue with {len(selected)} service(s)", cb.buy_selection_done(provider, section))])
    rows.append([_button("« Sections", cb.buy_provider(provider))])
    return InlineKeyboardMarkup(rows)


def confirm_purchase(purchase: PurchaseRecord) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button("Confirm", cb.buy_confirm(purchase.id)), _button("Cancel", cb.buy_drop(purchase.id))]]
    )


def buy_again(purchase: PurchaseRecord) -> InlineKeyboardMarkup:
    """After an unconfirmed purchase: a fresh confirmation card, never a purchase in one tap."""
    return InlineKeyboardMarkup(
        [[_button("Buy again anyway…", cb.buy_again(purchase.id)), _button("My orders", cb.menu("orders"))]]
    )


def accept_price(purchase: PurchaseRecord, available: Decimal) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(f"Accept {texts.money(available)}", cb.buy_accept(purchase.id)), _button("Cancel", cb.buy_drop(purchase.id))]]
    )


def accept_bid(purchase: PurchaseRecord, bid: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(f"Bid +{bid}%", cb.buy_accept(purchase.id)), _button("Cancel", cb.buy_drop(purchase.id))]]
    )


def order_card(order: OrderRecord) -> InlineKeyboardMarkup | None:
    """Only the actions this provider allows for the order now, three to a row."""
    allowed = capabilities_of(order.provider).order_actions(order.status, order.section)
    buttons = [_button(_ACTION_LABELS[a], cb.order_action(a, order.id)) for a in Action if a in allowed]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)]) if buttons else None


def plans(provider: ProviderId, section: str, items: Sequence[Plan]) -> InlineKeyboardMarkup:
    rows = [[_button(texts.plan_label(p), cb.buy_plan(provider, section, p.id))] for p in items]
    rows.append([_button("« Services", cb.buy_page(provider, section, 0))])
    return InlineKeyboardMarkup(rows)


def order_options(order: OrderRecord, action: Action, options: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per (label, option) of an action (Extend's target plans, Refund's yes)."""
    rows = [[_button(label, cb.order_action(action, order.id, option))] for label, option in options]
    rows.append([_button("« Back", cb.order_action(Action.REFRESH, order.id))])
    return InlineKeyboardMarkup(rows)


def confirm_paid_action(purchase: PurchaseRecord) -> InlineKeyboardMarkup:
    """Confirm performs the action once; Cancel goes back to the order's card."""
    return InlineKeyboardMarkup(
        [[_button("Confirm", cb.buy_confirm(purchase.id)), _button("Cancel", cb.buy_drop(purchase.id))]]
    )


def renew_durations(order: OrderRecord, durations: Sequence[str]) -> InlineKeyboardMarkup:
    row = [
        _button(f"Renew {texts.DURATION_WORDS.get(d, d)}", cb.order_action(Action.RENEW, order.id, d))
        for d in durations
    ]
    return InlineKeyboardMarkup([row, [_button("« Back", cb.order_action(Action.REFRESH, order.id))]])


COPY_TEXT_LIMIT = 256  # Telegram's limit for a copy-text button


def code_message(code: str | None) -> InlineKeyboardMarkup | None:
    if not code or len(code) > COPY_TEXT_LIMIT:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("📋 Copy code", copy_text=CopyTextButton(code))]]
    )


def history(page: int, pages: int) -> InlineKeyboardMarkup | None:
    if pages <= 1:
        return None
    nav = []
    if page > 0:
        nav.append(_button("◀", cb.history_page(page - 1)))
    nav.append(_button(f"{page + 1}/{pages}", cb.NOOP))
    if page < pages - 1:
        nav.append(_button("▶", cb.history_page(page + 1)))
    return InlineKeyboardMarkup([nav])
