"""⬇️ Export CSV: the chat's whole history as a CSV document, one row per order.

Rows are written batch by batch, as they are read from the database, into a temporary file, so
a large history is never one giant string. (PTB reads the file once more to upload it.)"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from tempfile import TemporaryFile
from typing import IO

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import answer, chat_id_of
from handlers.services import get_services
from handlers.texts import books as book_texts
from handlers.texts.common import provider_name
from storage.books import BookEntry, BookStore

COLUMNS = (
    "order", "created_at", "finished_at", "provider", "section", "service", "number", "price", "status",
    "refunded", "codes",
)
CODE_SEPARATOR = "; "
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def iso_utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def safe_cell(text: str) -> str:
    """Text from providers and SMS senders that a spreadsheet would run as a formula gets a
    leading apostrophe; a signed number (a phone number, a price) is data and stays as it is."""
    if text.startswith(_FORMULA_STARTS) and not text[1:].replace(" ", "").replace(".", "").isdigit():
        return "'" + text
    return text


def csv_row(entry: BookEntry) -> list[str]:
    order = entry.order
    refunded = {True: "yes", False: "no", None: "unknown"}[order.refunded]
    return [
        str(order.id),
        iso_utc(order.created_at),
        iso_utc(order.finished_at),
        provider_name(order.provider),
        safe_cell(order.section),
        safe_cell(order.service_name),
        safe_cell(order.phone),
        str(order.price),
        order.status.value,
        refunded,
        safe_cell(CODE_SEPARATOR.join(entry.codes)),
    ]


async def write_history(books: BookStore, chat_id: int, out: IO[bytes]) -> int:
    """Write the chat's orders as CSV (UTF-8) into `out`; how many rows were written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    count = 0
    async for batch in books.export_batches(chat_id):
        rows: Sequence[list[str]] = [csv_row(entry) for entry in batch]
        writer.writerows(rows)
        count += len(rows)
    text.flush()
    text.detach()  # `out` stays open for the caller
    return count


async def export_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = get_services(context)
    chat_id = chat_id_of(update)
    books = BookStore(services.db)
    if not await books.has_orders(chat_id):
        await answer(update, book_texts.nothing_to_export(), alert=True)
        return
    await answer(update)
    with TemporaryFile() as out:
        await write_history(books, chat_id, out)
        out.seek(0)
        await context.bot.send_document(
            chat_id, document=out, filename=book_texts.export_file_name(), caption=book_texts.export_caption()
        )
