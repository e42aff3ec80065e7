"""Storage: migrations, sealed credentials, deduplicated messages, one purchase per card."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from providers.models import IncomingSms, Offer, OrderStatus, ProviderId, RemoteOrder
from storage.credentials import CredentialStore
from storage.crypto import CredentialsUnreadable, SecretBox
from storage.database import Database, DatabaseTooNew
from storage.messages import MessageStore
from storage.migrations import MIGRATIONS
from storage.orders import OrderStore
from storage.purchases import PurchaseStore
from storage.records import PurchaseState
from tests.storage_backends import StorageTarget

SECRET = "lsms_abc123_supersecretvalue987"


def _files(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            data += candidate.read_bytes()
    return data


async def test_migrations_bring_a_new_file_to_the_latest_version(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "sub" / "bot.sqlite3")
    assert await db.schema_version() == len(MIGRATIONS)
    await db.close()
    again = await Database.open(tmp_path / "sub" / "bot.sqlite3")  # idempotent
    assert await again.schema_version() == len(MIGRATIONS)
    await again.close()


async def test_migrations_bring_a_new_database_to_the_latest_version(storage_target: StorageTarget) -> None:
    for _ in range(2):  # the second opening finds nothing to do
        db = await storage_target.open()
        assert await db.schema_version() == len(MIGRATIONS)
        await db.close()


async def test_a_database_newer_than_the_code_refuses_to_open(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(DatabaseTooNew):
        await Database.open(path)


async def test_credentials_are_not_in_clear_in_the_file_or_wal(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    store = CredentialStore(db, SecretBox([Fernet.generate_key().decode()]))
    await store.save(7, ProviderId.KIWI, {"api_key": SECRET})
    assert await store.load(7, ProviderId.KIWI) == {"api_key": SECRET}
    assert SECRET.encode() not in _files(path)
    await db.close()


async def test_credentials_are_stored_sealed(storage_db: Database) -> None:
    await CredentialStore(storage_db, SecretBox([Fernet.generate_key().decode()])).save(7, ProviderId.KIWI, {"api_key": SECRET})
    row = await storage_db.fetchone("SELECT sealed FROM credentials WHERE chat_id = ?", (7,))
    assert row is not None and isinstance(row["sealed"], bytes) and SECRET.encode() not in row["sealed"]


async def test_rotation_re_encrypts_with_the_first_key(storage_db: Database) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    db = storage_db
    await CredentialStore(db, SecretBox([old])).save(7, ProviderId.KIWI, {"api_key": SECRET})
    assert await CredentialStore(db, SecretBox([new, old])).rotate_all() == 1
    assert await CredentialStore(db, SecretBox([new])).load(7, ProviderId.KIWI) == {"api_key": SECRET}
    with pytest.raises(CredentialsUnreadable):
        await CredentialStore(db, SecretBox([old])).load(7, ProviderId.KIWI)


def _remote(order_id: str = "r1", status: OrderStatus = OrderStatus.WAITING) -> RemoteOrder:
    return RemoteOrder(
        order_id=order_id, phone="+12025550100", service="go", service_name="Google",
        price=Decimal("0.50"), status=status, expires_at=None,
    )


async def test_a_message_is_stored_once_however_often_it_is_seen(storage_db: Database) -> None:
    db = storage_db
    order = await OrderStore(db).add(7, ProviderId.KIWI, _remote())
    messages = MessageStore(db)
    sms = IncomingSms(message_id="0", code="123456", text="")
    first = await messages.add_sms(order, [sms])
    second = await messages.add_sms(order, [sms, IncomingSms(message_id="1", code="654321", text="")])
    assert [m.code for m in first] == ["123456"]
    assert [m.code for m in second] == ["654321"]
    assert (await messages.codes_by_order([order.id]))[order.id] == ["123456", "654321"]


async def test_a_final_status_changes_once(storage_db: Database) -> None:
    db = storage_db
    orders = OrderStore(db)
    order = await orders.add(7, ProviderId.KIWI, _remote())
    assert await orders.update_status(order.id, OrderStatus.EXPIRED, refunded=True)
    assert not await orders.update_status(order.id, OrderStatus.CANCELLED)
    stored = await orders.get(order.id, 7)
    assert stored is not None and stored.status is OrderStatus.EXPIRED and stored.refunded is True
    assert await orders.get(order.id, 8) is None  # another chat sees nothing


async def test_two_concurrent_confirms_claim_a_purchase_once(storage_db: Database) -> None:
    db = storage_db
    purchases = PurchaseStore(db)
    offer = Offer(section="187", service_id="go", name="Google", price=Decimal("0.50"), stock=3)
    purchase = await purchases.create(7, ProviderId.KIWI, (offer,))
    results = await asyncio.gather(
        *(purchases.claim_for_placing(purchase.id, 7, PurchaseState.PENDING, timedelta(seconds=30)) for _ in range(5))
    )
    assert sum(r is not None for r in results) == 1
