"""The one entry point of provider callbacks: find the account by the URL's token, hand over the body.

The answer is quick: what may take longer (sending the code to Telegram, confirming a won auction
with the provider) runs in a task after it, tracked here so shutdown (and a test) can wait for it.
A crash in here never reaches the web server: it becomes a 500 and one log line, without the body
(it may hold a code or a phone number) and without the token (it names the account).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.hooks.common import HookAnswer
from bot.hooks.kiwi import KiwiHooks
from bot.hooks.nonvoip import NonVoipHooks
from handlers.delivery import Delivery
from handlers.services import Services
from providers.models import ProviderId
from storage.hooks import AccountHook

__all__ = ["HookAnswer", "HookReceiver"]

logger = logging.getLogger(__name__)

UNKNOWN_HOOK = HookAnswer(404, "unknown hook")
INTERNAL_ERROR = HookAnswer(500, "internal error")
MAX_TOKEN_LENGTH = 128  # tokens are 43 characters; anything much longer is not one of ours


class HookReceiver:
    def __init__(self, services: Services, delivery: Delivery) -> None:
        self._services = services
        self._tasks: set[asyncio.Task[None]] = set()
        self._kiwi = KiwiHooks(services, delivery, self._spawn)
        self._nonvoip = NonVoipHooks(services, delivery, self._spawn)

    def __repr__(self) -> str:
        return "HookReceiver()"

    async def kiwi(self, token: str, body: bytes, signature: str | None) -> HookAnswer:
        """A kiwiSMS `sms.received` webhook with its `X-Webhook-Signature` header (None if absent)."""
        return await self._handle(ProviderId.KIWI, token, lambda hook: self._kiwi.receive(hook, body, signature))

    async def nonvoip(self, token: str, body: bytes) -> HookAnswer:
        """A NonVoipUsNumber callback (`incoming_message`, `auction_wining`)."""
        return await self._handle(ProviderId.NONVOIP, token, lambda hook: self._nonvoip.receive(hook, body))

    async def drain(self, timeout: float = 10.0) -> None:
        """Until the work started by callbacks so far (and the work it started) is done, or `timeout`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks and (left := deadline - asyncio.get_running_loop().time()) > 0:
            await asyncio.wait(list(self._tasks), timeout=left)

    async def close(self) -> None:
        """Cancel work still under way (shutdown): whatever it stored the outbox sends later, and
        an SMS it had not stored yet the next poll finds."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ internals

    async def _handle(
        self, provider: ProviderId, token: str, handler: Callable[[AccountHook], Awaitable[HookAnswer]]
    ) -> HookAnswer:
        try:
            answer = await self._route(provider, token, handler)
        except Exception as exc:
            logger.error("%s hook crashed: %s", provider.value, type(exc).__name__)
            return INTERNAL_ERROR
        return self._logged(provider, answer)

    async def _route(
        self, provider: ProviderId, token: str, handler: Callable[[AccountHook], Awaitable[HookAnswer]]
    ) -> HookAnswer:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return UNKNOWN_HOOK
        hook = await self._services.hooks.by_token(provider, token)
        if hook is None:
            return UNKNOWN_HOOK
        return await handler(hook)

    @staticmethod
    def _logged(provider: ProviderId, answer: HookAnswer) -> HookAnswer:
        # The one line of a refused request (the web layer passes the answer on as is).
        level = logging.DEBUG if answer.status == 200 else logging.INFO
        logger.log(level, "%s hook: %s %s", provider.value, answer.status, answer.reason)
        return answer

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._background(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _background(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.error("callback work crashed: %s", type(exc).__name__)
