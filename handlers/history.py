"""/history: finished orders, newest first, paged."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.services import get_services
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.zones import chat_zone

HISTORY_PAGE_SIZE = 5


async def history_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Page 0, or the page a ◀ ▶ button asks for."""
    await clear_pending_step(update, context)
    tap = cb.decode(update.callback_query.data if update.callback_query else None)
    page = tap.page if isinstance(tap, cb.HistoryPage) else 0
    await answer(update)
    services = get_services(context)
    chat_id = chat_id_of(update)
    orders, total = await services.orders.history(chat_id, page * HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE)
    if total == 0:
        await show(update, texts.NO_HISTORY, keyboards.main_menu())
        return
    pages = keyboards.page_count_for(total, HISTORY_PAGE_SIZE)
    if not orders:  # an outdated ◀ ▶ past the end: show the last page
        page = pages - 1
        orders, total = await services.orders.history(chat_id, page * HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE)
    codes = await services.messages.codes_by_order(o.id for o in orders)
    zone = await chat_zone(services, chat_id)
    entries = [texts.history_entry(o, codes.get(o.id, []), zone) for o in orders]
    await show(update, texts.history_page(entries, page, pages, zone), keyboards.history(page, pages))
