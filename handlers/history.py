"""/history: finished orders, newest first, paged; the filters, summary and export are in
handlers/history_filters.py and handlers/export_csv.py."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import callbacks as cb
from handlers.common import answer, clear_pending_step
from handlers.history_filters import DEFAULT_FILTER, HISTORY_PAGE_SIZE, show_books

__all__ = ["HISTORY_PAGE_SIZE", "history_command"]


async def history_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Page 0, or the page a ◀ ▶ button asks for."""
    await clear_pending_step(update, context)
    tap = cb.decode(update.callback_query.data if update.callback_query else None)
    page = tap.page if isinstance(tap, cb.HistoryPage) else 0
    await answer(update)
    await show_books(update, context, DEFAULT_FILTER, page)
