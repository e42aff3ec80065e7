"""/start, /help, /cancel, the main menu, and the answer to anything unexpected."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers.services import get_services
from handlers import keyboards, texts
from handlers.again_buttons import with_again
from handlers.common import answer, chat_id_of, clear_pending_step, show


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greeting and main menu; with no provider connected, leads to connecting one."""
    await clear_pending_step(update, context)
    await answer(update)
    services = get_services(context)
    connected = await services.credentials.providers_of(chat_id_of(update))
    user = update.effective_user
    text = texts.welcome(user.first_name if user else None, bool(connected))
    markup = keyboards.main_menu() if connected else keyboards.connect_first()
    if connected:
        markup = await with_again(services, chat_id_of(update), markup, first=True)
    await show(update, text, markup)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot does and how codes arrive."""
    await answer(update)
    await show(update, texts.help_text(), keyboards.help_screen())


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leave whatever conversation is under way."""
    had_state = await clear_pending_step(update, context)
    await show(update, texts.cancelled() if had_state else texts.nothing_to_cancel(), keyboards.main_menu())


async def noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The page indicator button does nothing but must not spin."""
    await answer(update)


async def outdated_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any callback data no handler recognises."""
    await answer(update, texts.outdated_button(), alert=True)


async def unknown_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text, commands or media that nothing is waiting for."""
    if update.effective_chat is None:
        return
    # The menu the chat can use now: with nothing connected, the way to connect.
    connected = await get_services(context).credentials.providers_of(chat_id_of(update))
    await update.effective_chat.send_message(
        texts.unknown_text(),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboards.main_menu() if connected else keyboards.connect_first(),
    )
