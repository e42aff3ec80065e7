"""The outbox: what an insert says it wrote, claims with a lease, each row to its own chat, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from telegram import Bot

from handlers.delivery import Delivery
from handlers.services import Services
from providers.models import IncomingSms, OrderStatus, ProviderId, RemoteOrder
from providers.registry import ProviderEndpoints
from storage.chats import ChatStore
from storage.conversations import ConversationStore
from storage.credentials import CredentialStore
from storage.crypto import SecretBox
from storage.database import Database
from storage.feed_recovery import FeedRecoveryStore
from storage.hooks import HookStore
from storage.messages import MessageStore
from storage.orders import OrderStore
from storage.purchases import PurchaseStore
from storage.records import OrderRecord
from tests.conftest import ENCRYPTION_KEY
from tests.fakes.telegram import FakeTelegram
from tests.storage_backends import StorageTarget


def _remote(order_id: str, phone: str, messages: tuple[IncomingSms, ...] = ()) -> RemoteOrder:
    return RemoteOrder(
        order_id=order_id, phone=phone, service="wa", service_name="WhatsApp", price=Decimal("0.50"),
        status=OrderStatus.WAITING, expires_at=datetime.now(UTC) + timedelta(minutes=20), messages=messages,
    )


def _sms(message_id: str, code: str, minutes_ago: float = 0) -> IncomingSms:
    return IncomingSms(
        message_id=message_id, code=code, text=f"Your code is {code}",
        received_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )


def _services(db: Database) -> Services:
    return Services(
        allowed_user_ids=frozenset(), poll_interval_seconds=1.0, db=db, http=None,  # type: ignore[arg-type]
        chats=ChatStore(db), credentials=CredentialStore(db, SecretBox([ENCRYPTION_KEY])), orders=OrderStore(db),
        purchases=PurchaseStore(db), messages=MessageStore(db), conversations=ConversationStore(db),
        feed_recovery=FeedRecoveryStore(db), hooks=HookStore(db, SecretBox([ENCRYPTION_KEY])), endpoints=ProviderEndpoints("http://x", "http://x", "http://x"),
        outbox_lease=timedelta(seconds=30),
    )


@pytest.fixture
def db(storage_db: Database) -> Database:
    """On SQLite and on PostgreSQL (tests/storage_backends.py)."""
    return storage_db


@pytest.fixture
async def telegram_bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    for chat_id in (1001, 2002):
        tg.register_chat(chat_id)
    bot = Bot(tg.token, base_url=tg.base_url)
    await bot.initialize()
    yield bot
    await bot.shutdown()


async def _two_chats(db: Database) -> tuple[OrderRecord, OrderRecord]:
    orders = OrderStore(db)
    first = await orders.add(1001, ProviderId.KIWI, _remote("r-1", "+15550001"))
    second = await orders.add(2002, ProviderId.KIWI, _remote("r-2", "+15550002"))
    return first, second


async def test_a_repeated_notice_returns_nothing_never_another_chats_row(db: Database) -> None:
    first, second = await _two_chats(db)
    messages = MessageStore(db)
    notice = await messages.add_notice(second, "reminder:x", "ends soon")
    assert notice is not None and notice.chat_id == 2002
    (other_chats_sms,) = await messages.add_sms(first, [_sms("m-1", "111111")])  # the newest row
    assert other_chats_sms.chat_id == 1001
    assert await messages.add_notice(second, "reminder:x", "ends soon") is None


async def test_an_insert_returns_only_what_it_inserted(db: Database) -> None:
    first, _ = await _two_chats(db)
    messages = MessageStore(db)
    inserted = await messages.add_sms(first, [_sms("m-1", "111"), _sms("m-2", "222")])
    assert [m.code for m in inserted] == ["111", "222"]
    again = await messages.add_sms(first, [_sms("m-2", "222"), _sms("m-3", "333")])
    assert [m.code for m in again] == ["333"]


async def test_several_sms_found_at_once_are_stored_oldest_first(db: Database) -> None:
    first, _ = await _two_chats(db)
    inserted = await MessageStore(db).add_sms(
        first, [_sms("new", "333", minutes_ago=1), _sms("old", "111", minutes_ago=5), _sms("mid", "222", minutes_ago=3)]
    )
    assert [m.code for m in inserted] == ["111", "222", "333"]
    assert [m.id for m in inserted] == sorted(m.id for m in inserted)


async def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(db: Database) -> None:
    first, _ = await _two_chats(db)
    messages = MessageStore(db)
    (row,) = await messages.add_sms(first, [_sms("m-1", "111")])
    assert await messages.claim(row.id, timedelta(seconds=30)) is not None
    assert await messages.claim(row.id, timedelta(seconds=30)) is None
    assert await messages.claim_batch(timedelta(seconds=30)) == []
    # A holder that died: its claim is older than the lease.
    await db.execute("UPDATE messages SET claimed_at = ? WHERE id = ?",
                     ((datetime.now(UTC) - timedelta(minutes=5)).isoformat(), row.id))
    (taken,) = await messages.claim_batch(timedelta(seconds=30))
    assert taken.id == row.id
    await messages.mark_delivered(row.id, 77)
    await db.execute("UPDATE messages SET claimed_at = NULL WHERE id = ?", (row.id,))
    assert await messages.claim(row.id, timedelta(seconds=30)) is None  # delivered rows are never claimed


async def test_two_senders_on_one_database_send_each_code_once_to_its_own_chat(
    storage_target: StorageTarget, tg: FakeTelegram, telegram_bot: Bot
) -> None:
    """Two Delivery instances on two connections to one database: two processes' outbox flushes."""
    one, two = await storage_target.open(), await storage_target.open()
    try:
        first, second = await _two_chats(one)
        messages = MessageStore(one)
        for index in range(15):
            await messages.add_sms(first, [_sms(f"a-{index}", f"1{index:04d}")])
            await messages.add_sms(second, [_sms(f"b-{index}", f"2{index:04d}")])
        senders = [Delivery(_services(one), telegram_bot), Delivery(_services(two), telegram_bot)]
        sent = await asyncio.gather(*(s.flush_outbox() for s in senders for _ in range(3)))
        assert sum(sent) == 30
        for chat_id, prefix in ((1001, "🔑 1"), (2002, "🔑 2")):
            texts = [m.text for m in tg.sent(chat_id)]
            assert len(texts) == 15 and all(t.startswith(prefix) for t in texts)
            assert len(set(texts)) == 15
        assert await MessageStore(two).undelivered_count() == 0
    finally:
        await one.close()
        await two.close()


async def test_a_telegram_failure_leaves_the_row_for_the_next_flush(
    db: Database, tg: FakeTelegram, telegram_bot: Bot
) -> None:
    first, _ = await _two_chats(db)
    await MessageStore(db).add_sms(first, [_sms("m-1", "515151")])
    delivery = Delivery(_services(db), telegram_bot)
    tg.set_down(True)
    assert await delivery.flush_outbox() == 0
    tg.set_down(False)
    assert await delivery.flush_outbox() == 1  # released at once, not held for the lease
    assert [m.text.split("\n")[0] for m in tg.sent(1001)] == ["🔑 515151"]


async def test_apply_stores_and_sends_new_codes_once_whatever_the_number_of_polls(
    db: Database, tg: FakeTelegram, telegram_bot: Bot
) -> None:
    first, _ = await _two_chats(db)
    delivery = Delivery(_services(db), telegram_bot)
    remote = _remote("r-1", "+15550001", (_sms("m-1", "616161"), _sms("m-2", "626262")))
    results = await asyncio.gather(*(delivery.apply(first, remote) for _ in range(5)))
    assert all(r.status is OrderStatus.RECEIVED for r in results)  # a code arrived: never "waiting"
    assert sorted(m.text.split("\n")[0] for m in tg.sent(1001)) == ["🔑 616161", "🔑 626262"]
    assert tg.sent(2002) == []
