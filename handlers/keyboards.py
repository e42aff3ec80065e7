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
from handlers.i18n import N_, _, ngettext, pgettext
from handlers.texts import compare as compare_texts
from handlers.texts.paid import duration_option
from providers.models import Action, Offer, Plan, ProviderId, Section
from providers.registry import capabilities_of
from storage.records import OrderRecord, PurchaseRecord

PAGE_SIZE = 8
CONNECT_ORDER = (ProviderId.NONVOIP, ProviderId.KIWI, ProviderId.GOTSMS)
# Only providers with a working client can be connected or bought from.
SUPPORTED = frozenset({ProviderId.KIWI, ProviderId.NONVOIP, ProviderId.GOTSMS})

# Functions, not strings: a label is translated when the keyboard is built, in the chat's language.
_ACTION_LABELS: dict[Action, Callable[[], str]] = {
    Action.CANCEL: lambda: pgettext("button", "Cancel"),
    Action.REJECT: lambda: pgettext("button", "Reject"),
    Action.DONE: lambda: pgettext("button", "Done"),
    Action.REUSE: lambda: pgettext("button", "Reuse"),
    Action.ACTIVATE: lambda: pgettext("button", "Activate"),
    Action.RENEW: lambda: pgettext("button", "Renew"),
    Action.WAKE_UP: lambda: pgettext("button", "Wake up"),
    Action.AUTO_RENEW: lambda: pgettext("button", "Auto-renewal on/off"),
    Action.EXTEND: lambda: pgettext("button", "Extend"),
    Action.REFUND: lambda: pgettext("button", "Refund"),
    Action.MESSAGES: lambda: pgettext("button", "Messages"),
    Action.REFRESH: lambda: pgettext("button", "Refresh"),
}


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


# Marked here, translated where a keyboard is built.
BACK_LABEL = N_("« Back")
MENU_LABEL = N_("☰ Menu")
# A services "page" no list reaches (it would hold 80,000 services): its button clears the filter.
CLEAR_FILTER_PAGE = cb.MAX_PAGE


def back_row(back_data: str) -> list[InlineKeyboardButton]:
    """The previous step and the main menu, one tap each: the last row of a navigable screen."""
    return [_button(_(BACK_LABEL), back_data), _button(_(MENU_LABEL), cb.menu("start"))]


def main_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(_("Buy a number"), cb.menu("buy")), _button(_("My orders"), cb.menu("orders"))],
            [_button(_("Balance"), cb.menu("balance")), _button(_("Providers"), cb.menu("providers"))],
            [_button(_("History"), cb.menu("history")), _button(_("Help"), cb.menu("help"))],
            [_button(_("Settings"), taps.settings())],
        ]
    )


def connect_first() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(_("Connect a provider"), cb.menu("connect"))]])


def connect_providers() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [*([_button(texts.provider_name(p), cb.connect(p))] for p in CONNECT_ORDER), back_row(cb.menu("start"))]
    )


def providers_list(connected: Sequence[ProviderId], instant_codes: Sequence[ProviderId] = ()) -> InlineKeyboardMarkup:
    """Disconnect per provider; `instant_codes`: the accounts whose instant codes can be set up here."""
    rows: list[list[InlineKeyboardButton]] = []
    for p in connected:
        rows.append([_button(_("Disconnect {provider}").format(provider=texts.provider_name(p)), cb.disconnect_ask(p))])
        if p in instant_codes:
            rows.append([_button(texts.setup_button(p), hook_taps.setup(p))])
    rows.append([_button(_("Connect another"), cb.menu("connect"))])
    rows.append(back_row(cb.menu("start")))
    return InlineKeyboardMarkup(rows)


def disconnect_confirm(provider: ProviderId) -> InlineKeyboardMarkup:
    """Back (also "keep it") returns to the providers list."""
    return InlineKeyboardMarkup([[_button(_("Yes, disconnect"), cb.disconnect_yes(provider))], back_row(cb.disconnect_no())])


def after_disconnect() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(_("« Providers"), cb.menu("providers")), _button(_(MENU_LABEL), cb.menu("start"))]])


def connected_screen(instant_codes: ProviderId | None = None) -> InlineKeyboardMarkup:
    """After "connected, balance $X": the main menu, below the instant-codes set-up where it is offered."""
    if instant_codes is None:
        return main_menu()
    setup = [_button(texts.setup_instant_codes_button(), hook_taps.setup(instant_codes))]
    return InlineKeyboardMarkup([setup, *main_menu().inline_keyboard])


def instant_codes_setup(provider: ProviderId, on: bool) -> InlineKeyboardMarkup:
    """Under the set-up screen: Turn off (when on), Back to the providers list."""
    rows = [[_button(texts.turn_off_button(), hook_taps.turn_off(provider))]] if on else []
    return InlineKeyboardMarkup([*rows, back_row(cb.menu("providers"))])


def back_to_providers() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([back_row(cb.menu("providers"))])


def connect_prompt() -> InlineKeyboardMarkup:
    """Under a credential prompt: back to the provider choice (which leaves the step)."""
    return InlineKeyboardMarkup([back_row(cb.menu("connect"))])


def account_switch(provider: ProviderId, nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(_("Yes, connect the other account"), account_cb.switch_yes(provider, nonce))],
            [_button(_("No, keep {provider} as it is").format(provider=texts.provider_name(provider)), account_cb.switch_no(provider, nonce))],
        ]
    )


def account_gone(order: OrderRecord, disconnected: bool) -> InlineKeyboardMarkup:
    """An order whose account is not connected: its buttons say so instead of acting."""
    name = texts.provider_name(order.provider)
    first = (
        _button(_("⚠️ {provider} disconnected — reconnect").format(provider=name), cb.connect(order.provider))
        if disconnected
        else _button(_("⚠️ {provider} account gone").format(provider=name), account_cb.gone(order.provider))
    )
    return InlineKeyboardMarkup([[first], [_button(_("My orders"), cb.menu("orders")), _button(_(MENU_LABEL), cb.menu("start"))]])


def open_private_chat(bot_username: str | None) -> InlineKeyboardMarkup | None:
    """The group line's button: opens the private chat with the bot."""
    if not bot_username:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(_("Open the private chat"), url=f"https://t.me/{bot_username}?start=")]])


def buy_providers(connected: Sequence[ProviderId]) -> InlineKeyboardMarkup:
    rows = [[_button(texts.provider_name(p), cb.buy_provider(p))] for p in connected]
    rows.append([_button(compare_texts.compare_button(), compare_taps.prompt_data())])
    return InlineKeyboardMarkup([*rows, back_row(cb.menu("start"))])


def sections(provider: ProviderId, items: Sequence[Section]) -> InlineKeyboardMarkup:
    # Section titles are the provider module's words (N_-marked there) or the provider's own.
    buttons = [_button(_(s.title), cb.buy_page(provider, s.id, 0)) for s in items]
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
        rows.append([_button(ngettext("Continue with {count} service(s)", "Continue with {count} service(s)", len(selected))
                        .format(count=len(selected)), cb.buy_selection_done(provider, section))])
    if filtered:
        rows.append([_button(_("✖ Clear filter"), cb.buy_page(provider, section, CLEAR_FILTER_PAGE))])
    rows.append(back_row(cb.buy_provider(provider)))
    return InlineKeyboardMarkup(rows)


def no_match(provider: ProviderId, section: str) -> InlineKeyboardMarkup:
    """A filter that matched nothing: the way out stays (clear it, or go back)."""
    return InlineKeyboardMarkup(
        [[_button(_("✖ Clear filter"), cb.buy_page(provider, section, CLEAR_FILTER_PAGE))], back_row(cb.buy_provider(provider))]
    )


def confirm_purchase(purchase: PurchaseRecord) -> InlineKeyboardMarkup:
    """Confirm buys once; Cancel goes back to the list the card came from; Menu leaves /buy."""
    return InlineKeyboardMarkup(
        [
            [_button(pgettext("button", "Confirm"), cb.buy_confirm(purchase.id)), _button(pgettext("button", "Cancel"), cb.buy_drop(purchase.id))],
            [_button(_(MENU_LABEL), cb.menu("start"))],
        ]
    )


def buy_again(purchase: PurchaseRecord) -> InlineKeyboardMarkup:
    """After an unconfirmed purchase: a fresh confirmation card, never a purchase in one tap."""
    return InlineKeyboardMarkup(
        [[_button(_("Buy again anyway…"), cb.buy_again(purchase.id)), _button(_("My orders"), cb.menu("orders"))]]
    )


def accept_price(purchase: PurchaseRecord, available: Decimal) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(_("Accept {amount}").format(amount=texts.money(available)), cb.buy_accept(purchase.id)), _button(pgettext("button", "Cancel"), cb.buy_drop(purchase.id))]]
    )


def accept_bid(purchase: PurchaseRecord, bid: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(_("Bid +{percent}%").format(percent=bid), cb.buy_accept(purchase.id)), _button(pgettext("button", "Cancel"), cb.buy_drop(purchase.id))]]
    )


ORDERS_BACK_LABEL = N_("« My orders")


def order_card(order: OrderRecord) -> InlineKeyboardMarkup:
    """Only the actions this provider allows for the order now, three to a row, then Back to the
    orders list (the same keyboard wherever the card is shown, so an edit by the poller keeps it)."""
    allowed = capabilities_of(order.provider).order_actions(order.status, order.section)
    buttons = [_button(_action_label(a, order), cb.order_action(a, order.id)) for a in Action if a in allowed]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return InlineKeyboardMarkup([*rows, [_button(_(ORDERS_BACK_LABEL), taps.orders_page(0))]])


def _action_label(action: Action, order: OrderRecord) -> str:
    """A toggle says what it will do, where the state is known."""
    if action is Action.AUTO_RENEW and order.auto_renew is not None:
        return _("Turn auto-renewal off") if order.auto_renew else _("Turn auto-renewal on")
    return _ACTION_LABELS[action]()


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
        [[_button(_("🕒 Time zone: {zone}").format(zone=zones.button_label(zone_name)), taps.time_zones())], back_row(cb.menu("start"))]
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
    rows.append([_button(_(BACK_LABEL), cb.order_action(Action.REFRESH, order.id))])
    return InlineKeyboardMarkup(rows)


def confirm_paid_action(purchase: PurchaseRecord) -> InlineKeyboardMarkup:
    """Confirm performs the action once; Cancel goes back to the order's card."""
    return InlineKeyboardMarkup(
        [[_button(pgettext("button", "Confirm"), cb.buy_confirm(purchase.id)), _button(pgettext("button", "Cancel"), cb.buy_drop(purchase.id))]]
    )


def renew_durations(order: OrderRecord, durations: Sequence[str]) -> InlineKeyboardMarkup:
    row = [
        _button(_("Renew {duration}").format(duration=duration_option(d)), cb.order_action(Action.RENEW, order.id, d))
        for d in durations
    ]
    return InlineKeyboardMarkup([row, [_button(_(BACK_LABEL), cb.order_action(Action.REFRESH, order.id))]])


COPY_TEXT_LIMIT = 256  # Telegram's limit for a copy-text button


def code_message(code: str | None) -> InlineKeyboardMarkup | None:
    if not code or len(code) > COPY_TEXT_LIMIT:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("📋 Copy code"), copy_text=CopyTextButton(code))]]
    )
