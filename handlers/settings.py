"""/settings: the chat's preferences (time zone, auto-cancel, language), from the command or the
main menu; each choice is stored, then the settings screen shows it again."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import auto_cancel, i18n, keyboards, language, screen_texts
from handlers import screen_taps as taps
from handlers.chat_language import set_chat_language
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.i18n import _
from handlers.services import Services, get_services
from handlers.texts import again as again_texts
from handlers.zones import chat_zone, set_chat_zone, zone, zone_name


async def settings_screen(services: Services, chat_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The /settings screen: the time zone, auto-cancel and the language."""
    zone_now = await chat_zone(services, chat_id)
    minutes = await auto_cancel.chat_minutes(services, chat_id)
    text = f"{screen_texts.settings(zone_now)}\n\n{again_texts.auto_cancel_line(minutes)}"
    # The zone's row(s), then auto-cancel and the language, above Back.
    rows = [list(row) for row in keyboards.settings(zone_name(zone_now)).inline_keyboard]
    extra = [[auto_cancel.settings_button(minutes)], [language.settings_button()]]
    return text, InlineKeyboardMarkup([*rows[:-1], *extra, *rows[-1:]])


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The settings screen: /settings, Settings in the menu, and Back from a setting."""
    await clear_pending_step(update, context)
    await answer(update)
    await show(update, *await settings_screen(get_services(context), chat_id_of(update)))


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of the settings screens: the zone list, or a zone chosen from it."""
    tap = taps.decode(update.callback_query.data if update.callback_query else None)
    if not isinstance(tap, taps.SettingsScreen) or not tap.zones:
        await settings_command(update, context)
        return
    services = get_services(context)
    chat_id = chat_id_of(update)
    if tap.zone is None:
        await answer(update)
        current = await chat_zone(services, chat_id)
        await show(update, screen_texts.choose_zone(current), keyboards.time_zones(zone_name(current)))
        return
    await set_chat_zone(services, chat_id, tap.zone)
    chosen = zone(tap.zone)
    await show(update, *await settings_screen(services, chat_id))
    await answer(update, screen_texts.zone_set(chosen))


async def auto_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The auto-cancel choices, or a choice: stored, then the settings screen showing it."""
    tap = auto_cancel.decode(update.callback_query.data if update.callback_query else None)
    services = get_services(context)
    chat_id = chat_id_of(update)
    if tap is None or tap.minutes is None:
        await answer(update)
        minutes = await auto_cancel.chat_minutes(services, chat_id)
        await show(update, again_texts.auto_cancel_question(), auto_cancel.choices(minutes))
        return
    await auto_cancel.set_chat_minutes(services, chat_id, tap.minutes)
    await show(update, *await settings_screen(services, chat_id))
    await answer(update, again_texts.auto_cancel_set(tap.minutes))


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The languages, or one chosen: stored, then the settings screen already in that language."""
    tap = language.decode(update.callback_query.data if update.callback_query else None)
    if tap is None or tap.value is None:
        await language.language_command(update, context)
        return
    services = get_services(context)
    chat_id = chat_id_of(update)
    await set_chat_language(services.db, chat_id, tap.value)
    i18n.set_language(tap.value)
    await show(update, *await settings_screen(services, chat_id))
    await answer(update, _("Language: {language}").format(language=i18n.language_name(tap.value)))
