"""/history with filters (provider, period, status) and the summary per provider and month.

One message, edited in place: the list, a filter's choices and the summary replace each other;
every button is answered. Buttons carry enum values and a page only (handlers/book_taps.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import book_taps as taps
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.services import get_services
from handlers.texts import books as book_texts
from handlers.zones import chat_zone
from providers.models import ProviderId
from storage.books import BookFilter, BookStore, Period, StatusFilter

HISTORY_PAGE_SIZE = 5
DEFAULT_FILTER = BookFilter()
PROVIDER_ORDER = (ProviderId.NONVOIP, ProviderId.KIWI, ProviderId.GOTSMS)


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def _page_data(book_filter: BookFilter) -> Callable[[int], str]:
    # The unfiltered list keeps its old ◀ ▶ data, so buttons already in chats still work.
    if book_filter == DEFAULT_FILTER:
        return cb.history_page
    return lambda page: taps.view(book_filter, page)


def _pager(page: int, pages: int, data_for: Callable[[int], str]) -> list[list[InlineKeyboardButton]]:
    """◀ page/pages ▶ as one row, or nothing for a single page."""
    if pages <= 1:
        return []
    nav = [_button("◀", data_for(page - 1))] if page > 0 else []
    nav.append(_button(f"{page + 1}/{pages}", cb.NOOP))
    if page < pages - 1:
        nav.append(_button("▶", data_for(page + 1)))
    return [nav]


def books_keyboard(book_filter: BookFilter, page: int, pages: int) -> InlineKeyboardMarkup:
    provider = book_texts.provider_choice(book_filter.provider)
    period = book_texts.period_words(book_filter.period)
    status = book_texts.status_filter_words(book_filter.status)
    rows = [
        [
            _button(book_texts.provider_button(provider), taps.choose("provider", book_filter)),
            _button(book_texts.period_button(period), taps.choose("period", book_filter)),
        ],
        [_button(book_texts.status_button(status), taps.choose("status", book_filter))],
        *_pager(page, pages, _page_data(book_filter)),
        [
            _button(book_texts.summary_button(), taps.summary(book_filter)),
            _button(book_texts.export_button(), taps.export()),
        ],
        keyboards.back_row(cb.menu("start")),
    ]
    return InlineKeyboardMarkup(rows)


def _options(kind: taps.FilterKind, book_filter: BookFilter) -> list[tuple[str, BookFilter]]:
    """Each value of one filter, in words, with the filter it leads to (the others kept)."""
    if kind == "provider":
        providers: list[ProviderId | None] = [None, *PROVIDER_ORDER]
        return [(book_texts.provider_choice(p), replace(book_filter, provider=p)) for p in providers]
    if kind == "period":
        return [(book_texts.period_words(p), replace(book_filter, period=p)) for p in Period]
    return [(book_texts.status_filter_words(s), replace(book_filter, status=s)) for s in StatusFilter]


def choice_keyboard(kind: taps.FilterKind, book_filter: BookFilter) -> InlineKeyboardMarkup:
    rows = [
        [_button(("✓ " if option == book_filter else "") + label, taps.view(option))]
        for label, option in _options(kind, book_filter)
    ]
    rows.append(keyboards.back_row(taps.view(book_filter)))
    return InlineKeyboardMarkup(rows)


async def show_books(
    update: Update, context: ContextTypes.DEFAULT_TYPE, book_filter: BookFilter, page: int
) -> None:
    """The filtered list at `page` (the last page when `page` is past the end)."""
    services = get_services(context)
    chat_id = chat_id_of(update)
    books = BookStore(services.db)
    zone = await chat_zone(services, chat_id)
    entries, total = await books.page(chat_id, book_filter, page * HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE, zone)
    if total == 0 and book_filter == DEFAULT_FILTER and not await books.has_orders(chat_id):
        await show(update, texts.no_history(), keyboards.main_menu())
        return
    pages = keyboards.page_count_for(total, HISTORY_PAGE_SIZE)
    if not entries and total:  # an outdated ◀ ▶ past the end: show the last page
        page = pages - 1
        entries, total = await books.page(chat_id, book_filter, page * HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE, zone)
    page = min(page, pages - 1)
    lines = [texts.history_entry(e.order, list(e.codes), zone) for e in entries]
    text = book_texts.filtered_page(lines, book_filter, page, pages, zone)
    await show(update, text, books_keyboard(book_filter, page, pages))


async def books_view(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tap = taps.decode(update.callback_query.data if update.callback_query else None)
    await clear_pending_step(update, context)
    await answer(update)
    if isinstance(tap, taps.BooksView):
        await show_books(update, context, tap.filter, tap.page)


async def filter_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tap = taps.decode(update.callback_query.data if update.callback_query else None)
    await answer(update)
    if not isinstance(tap, taps.FilterChoice):
        return
    question = {
        "provider": book_texts.choose_provider(),
        "period": book_texts.choose_period(),
        "status": book_texts.choose_status(),
    }[tap.kind]
    await show(update, question, choice_keyboard(tap.kind, tap.filter))


async def summary_screen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tap = taps.decode(update.callback_query.data if update.callback_query else None)
    await answer(update)
    back_to = tap.filter if isinstance(tap, taps.Summary) else DEFAULT_FILTER
    services = get_services(context)
    chat_id = chat_id_of(update)
    zone = await chat_zone(services, chat_id)
    months = await BookStore(services.db).summary(chat_id, zone)
    markup = InlineKeyboardMarkup(
        [[_button(book_texts.export_button(), taps.export())], keyboards.back_row(taps.view(back_to))]
    )
    await show(update, book_texts.summary(months, zone), markup)
