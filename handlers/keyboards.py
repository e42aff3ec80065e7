"""Inline keyboards as pure functions: no network, no database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from handlers import account_callbacks as account_cb
from handlers import callbacks as cb
from handlers import compare_taps, hook_taps
from handlers import screen_taps as taps
from handlers import screen_texts, texts, zones
from handlers.texts import compare as compare_texts
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


BACK_LABEL = "« Back"
MENU_LABEL = "☰ Menu"
# A services "page" no list reaches (it would hold 80,000 services): its button clears the filter.
CLEAR_FILTER_PAGE = cb.MAX_PAGE


def back_row(back_data: str) -> list[InlineKeyboardButton]:
    """The previous step and the main menu, one tap each: the last row of a navigable screen."""
    return [_button(BACK_LABEL, back_data), _button(MENU_LABEL, cb.menu("start"))]


def main_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button("Buy a number", cb.menu("buy")), _button("My orders", cb.menu("orders"))],
            [_button("Balance", cb.menu("balance")), _button("Providers", cb.menu("providers"))],
            [_button("History", cb.menu("history")), _button("Help", cb.menu("help"))],
            [_button("Settings", taps.settings())],
        ]
    )


def connect_first() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button("Connect a provider", cb.menu("connect"))]])


def connect_providers() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [*([_button(texts.provider_name(p), cb.connect(p))] for p in CONNECT_ORDER), back_row(cb.menu("start"))]
    )


def providers_list(connected: Sequence[ProviderId], instant_codes: Sequence[ProviderId] = ()) -> InlineKeyboardMarkup:
    """Disconnect per provider; `instant_codes`: the accounts whose instant codes can be set up here."""
    rows: list[list[InlineKeyboardButton]] = []
    for p in connected:
        rows.append([_button(f"Disconnect {texts.provider_name(p)}", cb.disconnect_ask(p))])
        if p in instant_codes:
            rows.append([_button(texts.setup_button(p), hook_taps.setup(p))])
    rows.append([_button("Connect another", cb.menu("connect"))])
    rows.append(back_row(cb.menu("start")))
    return InlineKeyboardMarkup(rows)


def disconnect_confirm(provider: ProviderId) -> InlineKeyboardMarkup:
    """Back (also "keep it") returns to the providers list."""
    return InlineKeyboardMarkup([[_button("Yes, disconnect", cb.disconnect_yes(provider))], back_row(cb.disconnect_no())])


def after_disconnect() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button("« Providers", cb.menu("providers")), _button(MENU_LABEL, cb.menu("start"))]])


def connected_screen(instant_codes: ProviderId | None = None) -> InlineKeyboardMarkup:
    """After "connected, balance $X": the main menu, below the instant-codes set-up where it is offered."""
    if instant_codes is None:
        return main_menu()
    setup = [_button(texts.SETUP_BUTTON, hook_taps.setup(instant_codes))]
    return InlineKeyboardMarkup([setup, *main_menu().inline_keyboard])


def instant_codes_setup(provider: ProviderId, on: bool) -> InlineKeyboardMarkup:
    """Under the set-up screen: Turn off (when on), Back to the providers list."""
    rows = [[_button(texts.TURN_OFF_BUTTON, hook_taps.turn_off(provider))]] if on else []
    return InlineKeyboardMarkup([*rows, back_row(cb.menu("providers"))])


def back_to_providers() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([back_row(cb.menu("providers"))])


def connect_prompt() -> InlineKeyboardMarkup:
    """Under a credential prompt: back to the provider choice (which leaves the step)."""
    return InlineKeyboardMarkup([back_row(cb.menu("connect"))])


def account_switch(provider: ProviderId, nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button("Yes, connect the other account", account_cb.switch_yes(provider, nonce))],
            [_button(f"No, keep {texts.provider_name(provider)} as it is", account_cb.switch_no(provider, nonce))],
        ]
    )


def account_gone(order: OrderRecord, disconnected: bool) -> InlineKeyboardMarkup:
    """An order whose account is not connected: its buttons say so instead of acting."""
    name = texts.provider_name(order.provider)
    first = (
        _button(f"⚠️ {name} disconnected — reconnect", cb.connect(order.provider))
        if disconnected
        else _button(f"⚠️ {name} account gone", account_cb.gone(order.provider))
    )
    return InlineKeyboardMarkup([[first], [_button("My orders", cb.menu("orders")), _button(MENU_LABEL, cb.menu("start"))]])


def open_private_chat(bot_username: str | None) -> InlineKeyboardMarkup | None:
    """The group line's button: opens the private chat with the bot."""
    if not bot_username:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton("Open the private chat", url=f"https://t.me/{bot_username}?start=")]])


def buy_providers(connected: Sequence[ProviderId]) -> InlineKeyboardMarkup:
    rows = [[_button(texts.provider_name(p), cb.buy_provider(p))] for p in connected]
    rows.append([_button(compare_texts.COMPARE_BUTTON, compare_taps.prompt_data())])
    return InlineKeyboardMarkup([*rows, back_row(cb.menu("start"))])


def sections(provider: ProviderId, items: Sequence[Section]) -> InlineKeyboardMarkup:
    buttons = [_button(s.title, cb.buy_page(provider, s.id, 0)) for s in items]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup([*rows, back_row(cb.menu("buy"))])


def page_count_for(total: int, size: int) -> int:
    return max(1, (total + size - 1) // size)


def page_count(total: int) -> int:
    return page_count_for(total, PAGE_SIZE)


def services(
    provider: ProviderId, section: str, offers: Sequence[Offer], page: int, selected: Sequence[str] | None = None,
    *, filtered: bool = False, price_is_minimum: bool = False,
) -> InlineKeyboardMarkup:
    """One page of offers (the caller clamps `page` and orders sold-out offers last), with ◀ ▶
    when there is more than one, Clear filter when `filtered`, then Back and Menu.

    With `selected` (a multi-select section) a tap toggles a service, and Continue goes on.
    """
    start = page * PAGE_SIZE
    rows = [
        [
            _button(texts.offer_label(o, price_is_minimum), cb.buy_offer(provider, section, o.service_id))
            if selected is None
            else _button(
                ("✅ " if o.service_id in selected else "") + texts.offer_label(o, price_is_minimum),
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
    if filtered:
        rows.append([_button("✖ Clear filter", cb.buy_page(provider, section, CLEAR_FILTER_PAGE))])
    rows.append(back_row(cb.buy_provider(provider)))
    return InlineKeyboardMarkup(rows)


def no_match(provider: ProviderId, section: str) -> InlineKeyboardMarkup:
    """A filter that matched nothing: the way out stays (clear it, or go back)."""
    return InlineKeyboardMarkup(
        [[_button("✖ Clear filter", cb.buy_page(provider, section, CLEAR_FILTER_PAGE))], back_row(cb.buy_provider(provider))]
    )


def confirm_purchase(purchase: PurchaseRecord) -> InlineKeyboardMarkup:
    """Confirm buys once; Cancel goes back to the list the card came from; Menu leaves /buy."""
    return InlineKeyboardMarkup(
        [
            [_button("Confirm", cb.buy_confirm(purchase.id)), _button("Cancel", cb.buy_drop(purchase.id))],
            [_button(MENU_LABEL, cb.menu("start"))],
        ]
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


ORDERS_BACK_LABEL = "« My orders"


def order_card(order: OrderRecord) -> InlineKeyboardMarkup:
    """Only the actions this provider allows for the order now, three to a row, then Back to the
    orders list (the same keyboard wherever the card is shown, so an edit by the poller keeps it)."""
    allowed = capabilities_of(order.provider).order_actions(order.status, order.section)
    buttons = [_button(_action_label(a, order), cb.order_action(a, order.id)) for a in Action if a in allowed]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return InlineKeyboardMarkup([*rows, [_button(ORDERS_BACK_LABEL, taps.orders_page(0))]])


def _action_label(action: Action, order: OrderRecord) -> str:
    """A toggle says what it will do, where the state is known."""
    if action is Action.AUTO_RENEW and order.auto_renew is not None:
        return "Turn auto-renewal off" if order.auto_renew else "Turn auto-renewal on"
    return _ACTION_LABELS[action]


def orders_list(orders: Sequence[OrderRecord], first: int, page: int, pages: int) -> InlineKeyboardMarkup:
    """One button per order (opens its card in place), ◀ ▶ between pages, Back and Menu."""
    rows = [[_button(screen_texts.order_button(n, o), taps.open_card(o.id))] for n, o in enumerate(orders, start=first + 1)]
    return InlineKeyboardMarkup([*rows, *_pager(page, pages, taps.orders_page), back_row(cb.menu("start"))])


def _pager(page: int, pages: int, data_for: Callable[[int], str]) -> list[list[InlineKeyboardButton]]:
    """◀ page/pages ▶ as one row, or nothing for a single page."""
    if pages <= 1:
        return []
    nav = []
    if page > 0:
        nav.append(_button("◀", data_for(page - 1)))
    nav.append(_button(f"{page + 1}/{pages}", cb.NOOP))
    if page < pages - 1:
        nav.append(_button("▶", data_for(page + 1)))
    return [nav]


def help_screen() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([back_row(cb.menu("start"))])


def settings(zone_name: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(f"🕒 Time zone: {zones.button_label(zone_name)}", taps.time_zones())], back_row(cb.menu("start"))]
    )


def time_zones(current: str) -> InlineKeyboardMarkup:
    """Every zone on the list, two to a row, the current one ticked; Back to the settings."""
    buttons = [
        _button(("✓ " if name == current else "") + zones.button_label(name), taps.choose_zone(name))
        for name in zones.ZONES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup([*rows, back_row(taps.settings())])


def plans(provider: ProviderId, section: str, items: Sequence[Plan]) -> InlineKeyboardMarkup:
    rows = [[_button(texts.plan_label(p, with_country=True), cb.buy_plan(provider, section, p.id))] for p in items]
    rows.append(back_row(cb.buy_page(provider, section, 0)))
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
