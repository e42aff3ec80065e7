"""The books: /history's filters and summary, and the CSV export, end to end (fake Bot API and the
provider simulators), plus the queries and the export's cells on their own."""

from __future__ import annotations

import calendar
import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from handlers import book_taps
from handlers.i18n import use_language
from handlers.export_csv import COLUMNS, safe_cell, write_history
from handlers.texts.books import summary as summary_text
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import IncomingSms, OrderStatus, ProviderId, RemoteOrder
from providers.nonvoip.simulator.sim import NonVoipSimulator
from storage.books import BookFilter, BookStore, Period, StatusFilter, local_month, period_bounds
from storage.database import Database
from storage.messages import MessageStore
from storage.orders import OrderStore
from tests.fakes.telegram import FakeTelegram
from tests.helpers import Chat, bought_gotsms_rent, bought_kiwi_rental, bought_nonvoip_order, until

OTHER_CHAT = 2002


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _remote(order_id: str, service: str, price: str, phone: str = "+14155550100") -> RemoteOrder:
    return RemoteOrder(
        order_id=order_id, phone=phone, service=service.lower(), service_name=service, price=Decimal(price),
        status=OrderStatus.WAITING, expires_at=None,
    )


async def _order(
    orders: OrderStore, messages: MessageStore, chat_id: int, provider: ProviderId, order_id: str, service: str,
    price: str, final: OrderStatus | None = None, refunded: bool | None = None, codes: tuple[str, ...] = (),
) -> int:
    record = await orders.add(chat_id, provider, _remote(order_id, service, price), section="sec")
    if codes:
        await messages.add_sms(record, [IncomingSms(f"m{i}", code, f"code {code}") for i, code in enumerate(codes)])
    if final is not None:
        await orders.update_status(record.id, final, refunded=refunded)
    return record.id


def _exported(tg: FakeTelegram) -> list[dict[str, str]]:
    (call,) = tg.calls("sendDocument")
    document = call.params["document"]
    assert document["filename"].endswith(".csv")
    return list(csv.DictReader(io.StringIO(document["content"].decode("utf-8"), newline="")))


async def test_the_export_of_three_providers_parses_back_to_the_same_rows_and_no_other_chats(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    kiwi.receive_sms(rental.id, "WhatsApp code 111222")
    await chat.expect("🔑 111222")
    number = await bought_nonvoip_order(chat, nonvoip, "10-minutes", "Instagram")
    nonvoip.receive_sms(number.order_id, "Instagram code 333444", "333444")
    await chat.expect("🔑 333444")
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day")
    gotsms.receive_sms(rent.id, "Telegram code 55667")
    await chat.expect("🔑 55667")
    gotsms.receive_sms(rent.id, "Telegram code 88990")
    await chat.expect("🔑 88990")
    services = bot.bot_data["services"]
    await _order(services.orders, services.messages, OTHER_CHAT, ProviderId.KIWI, "other-1", "Viber", "9.99")

    chat.send("/history")
    history = await chat.expect("History")
    await tg.wait_for_callback_answer(chat.press("⬇️ Export CSV"))
    await until(lambda: len(tg.calls("sendDocument")) == 1, "the CSV document")
    rows = _exported(tg)

    assert list(rows[0]) == list(COLUMNS)
    assert [(r["provider"], r["service"]) for r in rows] == [
        ("kiwiSMS", "WhatsApp"), ("NonVoipUsNumber", "Instagram"), ("GotSMS", "Telegram")
    ]
    bought = (rental, number, rent)
    assert [_digits(r["number"]) for r in rows] == [_digits(rental.phone), _digits(number.number), _digits(rent.phone)]
    assert [Decimal(r["price"]) for r in rows] == [o.price for o in bought]
    assert [r["codes"] for r in rows] == ["111222", "333444", "55667; 88990"]
    assert all(r["status"] == "received" and r["finished_at"] == "" for r in rows)
    for row in rows:
        created = datetime.fromisoformat(row["created_at"])
        assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert row["created_at"].endswith("Z")
    assert "Viber" not in {r["service"] for r in rows} and "9.99" not in {r["price"] for r in rows}
    # The file is a new message: the list stays as it was.
    screen = next(m for m in tg.messages(chat.chat_id) if m.message_id == history.message_id)
    assert screen.text == history.text


async def test_an_empty_history_says_so_and_sends_no_file(bot: Any, tg: FakeTelegram, chat: Chat) -> None:
    services = bot.bot_data["services"]
    await _order(services.orders, services.messages, OTHER_CHAT, ProviderId.KIWI, "other-1", "Viber", "1.00",
                 OrderStatus.COMPLETED)
    chat.send("/history")
    empty = await chat.expect("No finished orders yet")
    # An Export button kept from an older screen, pressed now.
    query = tg.press_data(chat.chat_id, empty.message_id, book_taps.export())
    answer = await tg.wait_for_callback_answer(query)
    assert "Nothing to export" in answer["text"]
    assert tg.calls("sendDocument") == []


async def test_filters_narrow_the_list_in_one_message(bot: Any, tg: FakeTelegram, chat: Chat) -> None:
    services = bot.bot_data["services"]
    chat.send("/start")
    await chat.expect("Hi")
    made = [
        (ProviderId.KIWI, "WhatsApp", OrderStatus.COMPLETED, False),
        (ProviderId.NONVOIP, "Instagram", OrderStatus.CANCELLED, True),
        (ProviderId.GOTSMS, "Discord", OrderStatus.EXPIRED, False),
    ]
    for n, (provider, service, status, refunded) in enumerate(made):
        await _order(services.orders, services.messages, chat.chat_id, provider, f"o{n}", service, "1.00", status, refunded)
    chat.send("/history")
    history = await chat.expect("History")
    assert all(service in history.text for _, service, _, _ in made)

    async def press(label: str, expecting: str) -> Any:
        answer = await tg.wait_for_callback_answer(chat.press(label))
        assert answer.get("show_alert") in (None, False)
        screen = await chat.expect(expecting)
        assert screen.message_id == history.message_id  # the same message, edited in place
        return screen

    choice = await press("Provider: All providers", "which provider")
    assert "✓ All providers" in choice.button_labels and "« Back" in choice.button_labels
    kiwi_only = await press("kiwiSMS", "kiwiSMS · All time · Finished")
    assert "WhatsApp" in kiwi_only.text and "Instagram" not in kiwi_only.text and "Discord" not in kiwi_only.text

    await press("Provider: kiwiSMS", "which provider")
    await press("All providers", "All providers · All time · Finished")
    await press("Show: Finished", "Show which orders")
    refunded = await press("Refunded", "All providers · All time · Refunded")
    assert "Instagram" in refunded.text and "WhatsApp" not in refunded.text and "Discord" not in refunded.text

    await press("Period: All time", "which period")
    last_month = await press("Last month", "Last month")
    assert "No orders match" in last_month.text
    await press("📊 Summary", "Summary")
    back = await press("« Back", "All providers · Last month · Refunded")
    assert back.message_id == history.message_id


async def test_the_summary_sums_money_per_provider_and_month(bot: Any, tg: FakeTelegram, chat: Chat) -> None:
    services = bot.bot_data["services"]
    chat.send("/start")
    await chat.expect("Hi")
    orders, messages = services.orders, services.messages
    await _order(orders, messages, chat.chat_id, ProviderId.KIWI, "k1", "WhatsApp", "0.10", OrderStatus.COMPLETED,
                 False, ("1111", "2222"))
    await _order(orders, messages, chat.chat_id, ProviderId.KIWI, "k2", "Telegram", "0.20", OrderStatus.EXPIRED, None,
                 ("3333",))
    await _order(orders, messages, chat.chat_id, ProviderId.KIWI, "k3", "Viber", "2.25", OrderStatus.CANCELLED, True)
    await _order(orders, messages, chat.chat_id, ProviderId.NONVOIP, "n1", "Instagram", "0.75")  # still live
    await _order(orders, messages, OTHER_CHAT, ProviderId.KIWI, "x1", "WhatsApp", "50.00", OrderStatus.COMPLETED)
    chat.send("/history")
    await chat.expect("History")
    await tg.wait_for_callback_answer(chat.press("📊 Summary"))
    summary = await chat.expect("📊 Summary")
    now = datetime.now(UTC)
    assert f"\n\n{calendar.month_name[now.month]} {now.year}\n" in summary.text  # the chat's month, named
    assert "kiwiSMS: 3 orders, 3 codes, spent $0.30, refunded $2.25" in summary.text
    assert "NonVoipUsNumber: 1 order, 0 codes, spent $0.75, refunded $0.00" in summary.text
    assert "GotSMS" not in summary.text and "50.00" not in summary.text


async def _placed_at(db: Database, order_id: int, moment: datetime) -> None:
    await db.execute("UPDATE orders SET created_at = ? WHERE id = ?", (moment.isoformat(), order_id))


async def test_the_summary_counts_months_as_the_chats_clock_shows_them(
    bot: Any, tg: FakeTelegram, chat: Chat
) -> None:
    services = bot.bot_data["services"]
    chat.send("/settings")
    await chat.expect("Time zone: UTC")
    chat.press("🕒 Time zone: UTC")
    await chat.expect("Choose your time zone")
    await tg.wait_for_callback_answer(chat.press("Tokyo (UTC+9)"))
    orders, messages = services.orders, services.messages
    # 23:30 UTC on March 31 is 08:30 on April 1 in Tokyo; 14:30 UTC is still 23:30 on March 31 there.
    april = await _order(orders, messages, chat.chat_id, ProviderId.KIWI, "k1", "WhatsApp", "0.40",
                         OrderStatus.COMPLETED, False, ("1111",))
    await _placed_at(services.db, april, datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    march = await _order(orders, messages, chat.chat_id, ProviderId.KIWI, "k2", "Telegram", "0.25",
                         OrderStatus.COMPLETED, False)
    await _placed_at(services.db, march, datetime(2026, 3, 31, 14, 30, tzinfo=UTC))

    chat.send("/history")
    await chat.expect("History")
    await tg.wait_for_callback_answer(chat.press("📊 Summary"))
    summary = await chat.expect("📊 Summary")
    assert "(per provider and month, Asia/Tokyo (UTC+9))" in summary.text
    assert "April 2026\nkiwiSMS: 1 order, 1 code, spent $0.40, refunded $0.00" in summary.text
    assert "March 2026\nkiwiSMS: 1 order, 0 codes, spent $0.25, refunded $0.00" in summary.text
    assert summary.text.index("April 2026") < summary.text.index("March 2026")  # newest month first


async def test_summary_months_follow_summer_time_and_exact_decimal_sums(storage_db: Database) -> None:
    db = storage_db  # on SQLite and on PostgreSQL
    orders, messages, books = OrderStore(db), MessageStore(db), BookStore(db)
    berlin = ZoneInfo("Europe/Berlin")
    # 22:30 UTC on March 31, 2026 is 00:30 on April 1 in Berlin (summer time, UTC+2): a fixed
    # winter offset (UTC+1) would still say March.
    for n, price in enumerate(("0.10", "0.20")):
        order = await _order(orders, messages, 1, ProviderId.GOTSMS, f"g{n}", "Signal", price,
                             OrderStatus.COMPLETED, False)
        await _placed_at(db, order, datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    (totals,) = await books.summary(1, berlin)
    assert (totals.month, totals.orders, totals.spent) == ("2026-04", 2, Decimal("0.30"))
    (in_utc,) = await books.summary(1)
    assert in_utc.month == "2026-03"
    with use_language("en"):
        assert "\n\n<b>April 2026</b>\nGotSMS: 2 orders, 0 codes, spent $0.30" in summary_text([totals], berlin)


def test_a_local_month_is_the_chats_month_on_both_sides_of_the_boundary() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local_month(datetime(2026, 3, 31, 14, 59, tzinfo=UTC), tokyo) == "2026-03"
    assert local_month(datetime(2026, 3, 31, 15, 0, tzinfo=UTC), tokyo) == "2026-04"
    assert local_month(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), UTC) == "2026-03"


# -- the queries and cells on their own ----------------------------------------------------


async def test_summary_money_is_exact_decimal_and_export_streams_every_order_in_batches(storage_db: Database) -> None:
    db = storage_db  # on SQLite and on PostgreSQL
    orders, messages, books = OrderStore(db), MessageStore(db), BookStore(db)
    for n in range(7):
        await _order(orders, messages, 1, ProviderId.NONVOIP, f"n{n}", "Signal", "0.10", OrderStatus.COMPLETED,
                     codes=(f"{n}00",))
    (totals,) = await books.summary(1)
    assert totals.spent == Decimal("0.70") and totals.orders == 7 and totals.codes == 7
    batches = [batch async for batch in books.export_batches(1, batch=3)]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [e.codes for b in batches for e in b] == [(f"{n}00",) for n in range(7)]
    assert [b async for b in books.export_batches(2)] == []


async def test_a_filtered_list_pages_with_its_filter(bot: Any, tg: FakeTelegram, chat: Chat) -> None:
    services = bot.bot_data["services"]
    chat.send("/start")
    await chat.expect("Hi")
    for n in range(7):
        await _order(services.orders, services.messages, chat.chat_id, ProviderId.GOTSMS, f"g{n}", f"Service{n}", "1.00",
                     OrderStatus.COMPLETED)
    await _order(services.orders, services.messages, chat.chat_id, ProviderId.KIWI, "k", "WhatsApp", "1.00",
                 OrderStatus.COMPLETED)
    chat.send("/history")
    await chat.expect("page 1/2")
    await tg.wait_for_callback_answer(chat.press("Provider: All providers"))
    await chat.expect("which provider")
    await tg.wait_for_callback_answer(chat.press("GotSMS"))
    first = await chat.expect("GotSMS · All time · Finished")
    assert "page 1/2" in first.text and "Service6" in first.text and "WhatsApp" not in first.text
    await tg.wait_for_callback_answer(chat.press("▶"))
    second = await chat.expect("page 2/2")
    assert "GotSMS · All time · Finished" in second.text and "Service0" in second.text and "WhatsApp" not in second.text


async def test_the_csv_quotes_commas_quotes_and_newlines(storage_db: Database) -> None:
    db = storage_db  # on SQLite and on PostgreSQL
    orders, messages, books = OrderStore(db), MessageStore(db), BookStore(db)
    awkward = 'Mail, "Pro"\nedition'
    record = await orders.add(1, ProviderId.KIWI, _remote("r1", awkward, "1.5"), section="US, east")
    await messages.add_sms(record, [IncomingSms("m1", None, 'no code, just "text"\nsecond line')])
    await orders.update_status(record.id, OrderStatus.EXPIRED, refunded=False)
    out = io.BytesIO()
    assert await write_history(books, 1, out) == 1
    (row,) = csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"), newline=""))
    assert row["service"] == awkward and row["section"] == "US, east"
    assert row["codes"] == 'no code, just "text"\nsecond line'
    assert (row["price"], row["status"], row["refunded"]) == ("1.5", "expired", "no")
    assert row["finished_at"].endswith("Z")


def test_periods_begin_at_midnight_in_the_chats_zone() -> None:
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # already March in Tokyo, still March 1 in UTC
    tokyo = ZoneInfo("Asia/Tokyo")
    start, end = period_bounds(Period.LAST_MONTH, tokyo, now)
    assert start == datetime(2026, 2, 1, tzinfo=tokyo) and end == datetime(2026, 3, 1, tzinfo=tokyo)
    assert period_bounds(Period.THIS_MONTH, UTC, now) == (datetime(2026, 3, 1, tzinfo=UTC), None)
    assert period_bounds(Period.ALL, UTC, now) == (None, None)


def test_every_filter_survives_its_button_and_garbage_is_refused() -> None:
    for provider in (None, *ProviderId):
        for period in Period:
            for status in StatusFilter:
                book_filter = BookFilter(provider, period, status)
                assert book_taps.decode(book_taps.view(book_filter, 12)) == book_taps.BooksView(book_filter, 12)
                assert book_taps.decode(book_taps.choose("status", book_filter)) == book_taps.FilterChoice(
                    "status", book_filter
                )
                assert book_taps.decode(book_taps.summary(book_filter)) == book_taps.Summary(book_filter)
    for junk in ("bk:v:kiwi:all:finished", "bk:v:evil:all:finished:0", "bk:f:q:-:all:finished", "bk:x:1", "bk", None):
        assert book_taps.decode(junk) is None


def test_cells_a_spreadsheet_would_run_are_defused_but_numbers_stay() -> None:
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("+14155550100") == "+14155550100"
    assert safe_cell("123456; 654321") == "123456; 654321"
