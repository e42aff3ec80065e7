"""Every handler, registered in one ordered list. Order matters: the guard runs first (group -1),
specific callback patterns before the catch-all, commands before free text."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import balance, buy, checkout, connect, history, orders, start, text_input
from handlers import account_callbacks as account_cb
from handlers import accounts, callback_setup, hook_taps
from handlers import callbacks as cb
from handlers import screen_taps as taps
from handlers import settings
from handlers import again_buttons, auto_cancel, buy_again
from handlers import book_taps, export_csv, history_filters
from handlers import compare, compare_taps, language
from handlers.errors import error_handler
from handlers.i18n import N_
from handlers.guard import guard

# Descriptions are translated when the menu is set (bot/app.py), once per language.
COMMANDS: list[tuple[str, str]] = [
    ("start", N_("Main menu")),
    ("buy", N_("Rent a number")),
    ("orders", N_("Active orders")),
    ("balance", N_("Provider balances")),
    ("providers", N_("Connected providers")),
    ("connect", N_("Connect a provider")),
    ("history", N_("Past orders")),
    ("settings", N_("Time zone, auto-cancel of idle orders")),
    ("language", N_("Language")),
    ("help", N_("How this bot works")),
    ("cancel", N_("Leave the current step")),
]


def _purchase_tap(step: str) -> Callable[[object], bool]:
    def matches(data: object) -> bool:
        tap = cb.decode(data)
        return isinstance(tap, cb.PurchaseTap) and tap.step == step

    return matches


def _menu(item: str) -> Callable[[object], bool]:
    return lambda data: cb.decode(data) == cb.Menu(item)  # type: ignore[arg-type]


def _handlers() -> list[BaseHandler[Update, object, object]]:
    # Buttons are routed by what their data decodes to, so a handler only ever sees
    # well-formed ids; anything else reaches the catch-all "outdated" answer.
    return [
        CommandHandler("start", start.start),
        CommandHandler("help", start.help_command),
        CommandHandler("cancel", start.cancel),
        CommandHandler("connect", connect.connect_command),
        CommandHandler("providers", balance.providers_command),
        CommandHandler("balance", balance.balance_command),
        CommandHandler("buy", buy.buy_command),
        CommandHandler("orders", orders.orders_command),
        CommandHandler("history", history.history_command),
        CommandHandler("settings", settings.settings_command),
        CommandHandler("language", language.language_command),
        CallbackQueryHandler(start.start, pattern=_menu("start")),
        CallbackQueryHandler(buy.buy_command, pattern=_menu("buy")),
        CallbackQueryHandler(orders.orders_command, pattern=_menu("orders")),
        CallbackQueryHandler(balance.balance_command, pattern=_menu("balance")),
        CallbackQueryHandler(balance.providers_command, pattern=_menu("providers")),
        CallbackQueryHandler(history.history_command, pattern=_menu("history")),
        CallbackQueryHandler(start.help_command, pattern=_menu("help")),
        CallbackQueryHandler(connect.connect_command, pattern=_menu("connect")),
        CallbackQueryHandler(connect.provider_chosen, pattern=cb.matches(cb.ConnectProvider)),
        CallbackQueryHandler(balance.disconnect_button, pattern=cb.matches(cb.Disconnect)),
        CallbackQueryHandler(buy.provider_chosen, pattern=cb.matches(cb.BuyProvider)),
        CallbackQueryHandler(buy.page_chosen, pattern=cb.matches(cb.BuyPage)),
        CallbackQueryHandler(buy.offer_chosen, pattern=cb.matches(cb.BuyOffer)),
        CallbackQueryHandler(buy.plan_chosen, pattern=cb.matches(cb.BuyPlan)),
        CallbackQueryHandler(buy.service_toggled, pattern=cb.matches(cb.BuyToggle)),
        CallbackQueryHandler(buy.selection_done, pattern=cb.matches(cb.BuySelectionDone)),
        CallbackQueryHandler(checkout.confirm, pattern=_purchase_tap("confirm")),
        CallbackQueryHandler(checkout.accept, pattern=_purchase_tap("accept")),
        CallbackQueryHandler(checkout.drop, pattern=_purchase_tap("drop")),
        CallbackQueryHandler(checkout.buy_again, pattern=_purchase_tap("again")),
        CallbackQueryHandler(orders.order_button, pattern=cb.matches(cb.OrderTap)),
        CallbackQueryHandler(history.history_command, pattern=cb.matches(cb.HistoryPage)),
        CallbackQueryHandler(history_filters.books_view, pattern=book_taps.matches(book_taps.BooksView)),
        CallbackQueryHandler(history_filters.filter_choice, pattern=book_taps.matches(book_taps.FilterChoice)),
        CallbackQueryHandler(history_filters.summary_screen, pattern=book_taps.matches(book_taps.Summary)),
        CallbackQueryHandler(export_csv.export_history, pattern=book_taps.matches(book_taps.Export)),
        CallbackQueryHandler(orders.orders_command, pattern=taps.matches(taps.OrdersPage)),
        CallbackQueryHandler(orders.open_card, pattern=taps.matches(taps.OpenCard)),
        CallbackQueryHandler(settings.settings_button, pattern=taps.matches(taps.SettingsScreen)),
        CallbackQueryHandler(start.noop, pattern=cb.matches(cb.Noop)),
        CallbackQueryHandler(accounts.account_button, pattern=account_cb.is_account_tap),
        CallbackQueryHandler(callback_setup.hook_button, pattern=hook_taps.matches()),
        CallbackQueryHandler(buy_again.again_tapped, pattern=again_buttons.matches()),
        CallbackQueryHandler(settings.auto_cancel_button, pattern=auto_cancel.matches()),
        CallbackQueryHandler(settings.language_button, pattern=language.matches()),
        CallbackQueryHandler(compare.prompt_tapped, pattern=compare_taps.is_compare_tap),
        CallbackQueryHandler(start.outdated_button),
        # An edit is never taken as a new answer (a credential, a filter): it gets the menu.
        MessageHandler(filters.UpdateType.EDITED, text_input.edit_received),
        MessageHandler(filters.TEXT & ~filters.COMMAND, text_input.text_received),
        MessageHandler(filters.ALL, start.unknown_message),
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, guard), group=-1)
    for handler in _handlers():
        app.add_handler(handler)
    app.add_error_handler(error_handler)
