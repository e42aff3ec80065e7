"""One seeding shape for every scenario: accounts at the simulator, credentials and orders in the
bot's database, each order bought over the provider's documented HTTP API through the project's
own client (`place_order(OrderRequest)`), as if the chats had connected and bought earlier."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.scenarios.base import Account, Scenario, Target
from providers.models import PlacedOrder
from providers.registry import ProviderEndpoints, make_client
from storage.credentials import CredentialStore
from storage.crypto import SecretBox
from storage.database import open_database
from storage.orders import OrderStore
from tests.fakes.telegram import FakeTelegram

SEED_CONCURRENCY = 32  # bounded, so seeding does not flood the simulator


async def seed(scenario: Scenario[Any], tg: FakeTelegram, db_path: Path, fernet_key: str,
               endpoints: ProviderEndpoints, db_url: str | None = None) -> list[Target]:
    """Buys `scenario.size.orders` orders round-robin over `scenario.size.chats` accounts, into the
    SQLite file at `db_path` or the PostgreSQL database at `db_url`."""
    size = scenario.size
    if size.orders == 0:
        return []
    per_account = -(-size.orders // size.chats)
    scenario.prepare()
    accounts = [scenario.open_account(index, per_account) for index in range(size.chats)]
    for account in accounts:
        tg.register_chat(account.chat_id)  # so sendMessage to it succeeds
    db = await open_database(url=db_url, path=db_path)
    credentials = CredentialStore(db, SecretBox([fernet_key]))
    orders = OrderStore(db)
    limit = asyncio.Semaphore(SEED_CONCURRENCY)
    targets: list[Target] = []
    try:
        for account in accounts:
            await credentials.save(account.chat_id, scenario.provider, account.credentials)
        async with httpx.AsyncClient(timeout=30.0) as http:
            clients = {a.chat_id: make_client(scenario.provider, a.credentials, http, endpoints) for a in accounts}

            async def buy(account: Account) -> None:
                request = dataclasses.replace(scenario.order_request(), idempotency_key=str(uuid.uuid4()))
                async with limit:
                    outcome = await clients[account.chat_id].place_order(request)
                if not isinstance(outcome, PlacedOrder):
                    raise RuntimeError(f"{scenario.label} order answered a decision: {outcome!r}")
                for remote in outcome.orders:
                    await orders.add(account.chat_id, scenario.provider, remote, section=scenario.stored_section)
                    targets.append(Target(remote.order_id, account))

            await asyncio.gather(*(buy(accounts[i % size.chats]) for i in range(size.orders)))
    finally:
        await db.close()
    return targets
