"""/settings: the chat's preferences (its time zone, auto-cancel), from the command or the main menu."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import keyboards, screen_texts
from handlers import screen_taps as taps
from handlers.auto_cancel import settings_screen
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.services import get_services
from handlers.zones import chat_zone, set_chat_zone, zone, zone_name


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
    # Back to the settings screen, which now shows the zone; the answer says what changed.
    await show(update, *await settings_screen(services, chat_id))
    await answer(update, screen_texts.zone_set(chosen))
