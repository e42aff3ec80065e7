"""Every handler, registered in one ordered list. Order matters: the guard runs first (group -1),
specific callback patterns before the catch-all, commands before free text."""

from __future__ import annotations

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
from handlers.errors import error_handler
from handlers.guard import guard

COMMANDS: list[tuple[str, str]] = [
    ("start", "Main menu"),
    ("buy", "Rent a number"),
    ("orders", "Active orders"),
    ("balance", "Provider balances"),
    ("providers", "Connected providers"),
    ("connect", "Connect a provider"),
    ("history", "Past orders"),
    ("help", "How this bot works"),
    ("cancel", "Leave the current step"),
]


def _handlers() -> list[BaseHandler[Update, object, object]]:
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
        CallbackQueryHandler(start.start, pattern=r"^m:start$"),
        CallbackQueryHandler(buy.buy_command, pattern=r"^m:buy$"),
        CallbackQueryHandler(orders.orders_command, pattern=r"^m:orders$"),
        CallbackQueryHandler(balance.balance_command, pattern=r"^m:balance$"),
        CallbackQueryHandler(balance.providers_command, pattern=r"^m:providers$"),
        CallbackQueryHandler(history.history_command, pattern=r"^m:history$"),
        CallbackQueryHandler(start.help_command, pattern=r"^m:help$"),
        CallbackQueryHandler(connect.connect_command, pattern=r"^m:connect$"),
        CallbackQueryHandler(connect.provider_chosen, pattern=r"^c:"),
        CallbackQueryHandler(balance.disconnect_button, pattern=r"^p:"),
        CallbackQueryHandler(buy.provider_chosen, pattern=r"^b:p:"),
        CallbackQueryHandler(buy.page_chosen, pattern=r"^b:s:"),
        CallbackQueryHandler(buy.offer_chosen, pattern=r"^b:o:"),
        CallbackQueryHandler(buy.plan_chosen, pattern=r"^b:pl:"),
        CallbackQueryHandler(buy.service_toggled, pattern=r"^b:t:"),
        CallbackQueryHandler(buy.selection_done, pattern=r"^b:m:"),
        CallbackQueryHandler(checkout.confirm, pattern=r"^b:c:"),
        CallbackQueryHandler(checkout.accept, pattern=r"^b:a:"),
        CallbackQueryHandler(checkout.drop, pattern=r"^b:x:"),
        CallbackQueryHandler(orders.order_button, pattern=r"^o:"),
        CallbackQueryHandler(history.history_command, pattern=r"^h:"),
        CallbackQueryHandler(start.noop, pattern=r"^noop$"),
        CallbackQueryHandler(start.outdated_button),
        MessageHandler(filters.TEXT & ~filters.COMMAND, text_input.text_received),
        MessageHandler(filters.ALL, start.unknown_message),
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, guard), group=-1)
    for handler in _handlers():
        app.add_handler(handler)
    app.add_error_handler(error_handler)
