"""The whole bot on PostgreSQL (DATABASE_URL): the real Application against the fake Bot API and
the kiwiSMS simulator, its state in a real PostgreSQL server rather than a SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import asyncpg

from bot.app import build_application, running
from bot.config import Settings
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.helpers import KIWI_KEY, Chat, ticks


async def test_connect_buy_and_the_code_arrives_once_on_postgresql(
    make_settings: Callable[..., Settings], postgres_url: str, kiwi: KiwiSimulator, chat: Chat
) -> None:
    settings = make_settings(database_url=postgres_url)
    app = build_application(settings)
    async with running(app):
        kiwi.add_account(KIWI_KEY, Decimal("10.00"))
        await chat.connect_kiwi()
        await chat.buy("WhatsApp")
        (rental,) = kiwi.rentals_of(KIWI_KEY)
        kiwi.receive_sms(rental.id, "Your WhatsApp code is 482913")
        code_message = await chat.expect("482913")
        assert code_message.text.startswith("🔑 482913")
        await ticks(app, 4)
        assert len(chat.codes_sent("482913")) == 1

    assert not settings.database_path.exists()  # nothing went to SQLite
    conn = await asyncpg.connect(postgres_url)
    try:
        orders = await conn.fetch("SELECT remote_id, status FROM orders")
        assert [o["remote_id"] for o in orders] == [str(rental.id)]
        delivered = await conn.fetchval("SELECT count(*) FROM messages WHERE code = '482913' AND delivered_at IS NOT NULL")
        assert delivered == 1
        sealed = await conn.fetchval("SELECT sealed FROM credentials")
        assert isinstance(sealed, bytes) and KIWI_KEY.encode() not in sealed  # sealed as on SQLite
    finally:
        await conn.close()
