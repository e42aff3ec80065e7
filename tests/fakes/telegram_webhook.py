"""Webhook delivery, as Telegram does it: after setWebhook, every update is POSTed to the URL
with the X-Telegram-Bot-Api-Secret-Token header, and retried until the bot answers 2xx.

Unlike Telegram, plain http on loopback is allowed (the bot's webhook server runs in-process).
"""

from __future__ import annotations

import asyncio
import json
import re

import httpx

from tests.fakes.telegram_state import JSON, TelegramState, bad_request

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_RETRY_DELAY = 0.05


class WebhookPusher:
    def __init__(self, state: TelegramState) -> None:
        self._state = state
        self.url = ""
        self.secret_token: str | None = None
        self.delivered = 0
        self.refusals: list[int] = []  # status codes of failed deliveries, in order
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return bool(self.url)

    def set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self.delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._state.updates.clear()
        self.url, self.secret_token = url, None if secret is None else str(secret)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._deliver())
        self._state.updates_changed.notify()
        return True

    def delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._state.updates.clear()
        self.url, self.secret_token = "", None
        self._state.updates_changed.notify()
        return True

    def info(self) -> JSON:
        return {"url": self.url, "has_custom_certificate": False, "pending_update_count": len(self._state.updates)}

    async def close(self) -> None:
        self.url = ""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _deliver(self) -> None:
        state = self._state
        async with httpx.AsyncClient(timeout=10.0) as http:
            while self.url:
                if not state.updates:
                    await state.updates_changed.wait(1.0)
                    continue
                update = state.updates[0]
                headers = {"Content-Type": "application/json"}
                if self.secret_token is not None:
                    headers[SECRET_HEADER] = self.secret_token
                try:
                    response = await http.post(self.url, content=json.dumps(update), headers=headers)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                if 200 <= status < 300:
                    if state.updates and state.updates[0] is update:
                        state.updates.popleft()
                    self.delivered += 1
                    state.bot_changed.notify()
                else:
                    self.refusals.append(status)
                    await asyncio.sleep(_RETRY_DELAY)
