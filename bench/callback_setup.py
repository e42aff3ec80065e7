"""The callback path of the benchmark: accounts whose provider calls the bot back.

Each seeded kiwiSMS and NonVoipUsNumber account gets its hook row in the bot's database (what
/connect stores: a random token, the kiwiSMS signing secret, registered), and the simulator is
pointed at the bot's URL for it the way the provider is: the kiwiSMS dashboard setting (URL and
secret), NonVoipUsNumber's `/api/saveurl` called through the project's client. The simulators then
POST a signed `sms.received` / an `incoming_message` the moment an SMS arrives, so an SMS's
"visible at the provider" time is when its callback request is made. Polling stays on (the
safety-net interval is short), so each SMS is also seen by a poll: it must still arrive once.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.accounting import Delivered
from bench.scenarios.base import Scenario, TargetRow
from bench.stats import percentile
from providers.models import ProviderId
from providers.nonvoip.client import NonVoipClient
from providers.registry import ProviderEndpoints, make_client
from storage.crypto import SecretBox
from storage.database import Database
from storage.hooks import HookStore

CALLBACK_PROVIDERS = (ProviderId.KIWI, ProviderId.NONVOIP)
TARGET_P50 = 0.050  # s, provider's callback request -> the bot's sendMessage
TARGET_P99 = 0.150


@dataclass(frozen=True)
class CallbackOptions:
    port: int  # the bot's web server (PUBLIC_URL is http://127.0.0.1:<port>)
    safety_poll: float  # CALLBACK_SAFETY_POLL_SECONDS: how often hooked accounts are still polled

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "PUBLIC_URL": self.public_url,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(self.port),
            "WEBHOOK_SECRET": secrets.token_urlsafe(24),
            "CALLBACK_SAFETY_POLL_SECONDS": f"{self.safety_poll:g}",
        }


def hook_url(public_url: str, provider: ProviderId, token: str) -> str:
    """As `Services.hook_url` builds it."""
    return f"{public_url}/hooks/{provider.value}/{token}"


async def enable_callbacks(scenarios: Sequence[Scenario[Any]], db_path: Path, fernet_key: str,
                           endpoints: ProviderEndpoints, options: CallbackOptions) -> int:
    """Hook rows for every seeded account of a provider with callbacks, and the simulator told
    where to call; returns how many accounts."""
    db = await Database.open(db_path)
    hooks = HookStore(db, SecretBox([fernet_key]))
    count = 0
    try:
        async with httpx.AsyncClient(timeout=30.0) as http:
            for scenario in scenarios:
                if scenario.provider not in CALLBACK_PROVIDERS:
                    continue
                accounts = {t.account.chat_id: t.account for t in scenario.targets}
                for chat_id, account in accounts.items():
                    hook = await hooks.ensure(chat_id, scenario.provider)
                    url = hook_url(options.public_url, scenario.provider, hook.token)
                    if scenario.provider is ProviderId.KIWI:
                        secret = secrets.token_hex(16)
                        await hooks.set_webhook_secret(chat_id, scenario.provider, secret)
                        scenario.sim.configure_webhook(account.key, url, secret)  # the dashboard setting
                    else:
                        client = make_client(scenario.provider, account.credentials, http, endpoints)
                        assert isinstance(client, NonVoipClient)
                        await client.save_url(url)  # what the bot does when the account connects
                        await hooks.mark_registered(chat_id, scenario.provider, True)
                    count += 1
    finally:
        await db.close()
    return count


async def wait_listening(options: CallbackOptions, bot: Any, timeout: float = 30.0) -> None:
    """Until the bot's web server answers (any status: /healthz may say 503 before its first tick)."""
    async with httpx.AsyncClient(timeout=2.0) as http:
        async def answers() -> bool:
            try:
                await http.get(f"{options.public_url}/healthz")
            except httpx.HTTPError:
                return False
            return True

        deadline = time.monotonic() + timeout
        while not await answers():
            if bot.proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("the bot's web server is not listening")
            await asyncio.sleep(0.1)  # another process: no event to await


async def stored_sources(db_path: Path) -> Counter[tuple[str, str]]:
    """(provider, source) -> SMS rows: which path stored each code first (the other path's copy
    is the duplicate the store refused)."""
    db = await Database.open(db_path)
    try:
        rows = await db.fetchall(
            "SELECT o.provider AS provider, m.source AS source, COUNT(*) AS n FROM messages m"
            " JOIN orders o ON o.id = m.order_id WHERE m.kind = 'sms' GROUP BY o.provider, m.source"
        )
    finally:
        await db.close()
    return Counter({(r["provider"], r["source"] or "?"): int(r["n"]) for r in rows})


def callback_rows(label: str, delivered: Delivered) -> list[TargetRow]:
    lat = delivered.latencies
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    return [
        TargetRow(f"{label} callback p50 <= {TARGET_P50 * 1000:.0f} ms", f"{p50 * 1000:.1f} ms", p50 <= TARGET_P50),
        TargetRow(f"{label} callback p99 <= {TARGET_P99 * 1000:.0f} ms", f"{p99 * 1000:.1f} ms", p99 <= TARGET_P99),
    ]
