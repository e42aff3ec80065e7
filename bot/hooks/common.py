"""What the receiver and the providers' parts share: the answer, background work, an SMS update."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from handlers.delivery import Delivery
from providers.models import IncomingSms
from storage.messages import SOURCE_CALLBACK
from storage.records import OrderRecord

# Starts work that may outlive the HTTP answer (sending to Telegram, asking the provider).
Spawn = Callable[[Coroutine[Any, Any, None]], None]


@dataclass(frozen=True)
class HookAnswer:
    status: int  # 200 accepted (also for a duplicate), 401 bad/missing signature,
    #              404 unknown token, 400 unreadable body
    reason: str  # short, safe to return and to log (never the body)


ACCEPTED = HookAnswer(200, "accepted")
UNREADABLE = HookAnswer(400, "unreadable body")


async def store_sms(delivery: Delivery, order: OrderRecord, sms: IncomingSms) -> Coroutine[Any, Any, None] | None:
    """A callback's SMS stored (as brought by a callback) BEFORE the provider gets its answer, so
    a process that dies after answering has it in the outbox. Returns the rest of the work — send
    it once, "code received", the card — to run after the answer; None when it was known already."""
    remote = order.with_messages([sms])
    inserted = await delivery.store(order, remote, source=SOURCE_CALLBACK)
    if not inserted:
        return None

    async def follow() -> None:
        await delivery.follow(order, remote, inserted)

    return follow()
