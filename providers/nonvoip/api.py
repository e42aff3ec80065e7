"""NonVoipUsNumber transport: `POST {base}/api/...` with the credentials in the JSON body.

Every request goes through `providers.http.send_with_retry` (one retry policy for all providers):
reads are retried on transport errors, 429 and 5xx; a purchase (order, reuse, renew) carries no
idempotency key on this API, so it is retried only when it provably never reached the provider,
and an answer that never came raises `ProviderUnavailable(may_have_charged=True)`. reject and
activate charge nothing but are not blindly repeated either.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx
import msgspec

from providers.errors import ProviderUnavailable
from providers.http import RetryPolicy, send_with_retry
from providers.nonvoip.errors import PROVIDER, error_for, unconfirmed_purchase, unreadable_purchase
from providers.nonvoip.schema import Envelope
from providers.parsing import convert

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A readable answer: its envelope, and its top-level fields (getsms and renew put data there)."""

    envelope: Envelope
    fields: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """An answer with its HTTP status; `answer` is None when the body is not a JSON object."""

    response: httpx.Response
    answer: Answer | None

    @property
    def ok(self) -> bool:
        return 200 <= self.response.status_code < 300

    @property
    def envelope(self) -> Envelope | None:
        return self.answer.envelope if self.answer is not None else None


def read_answer(content: bytes) -> Answer | None:
    """The answer in a body; None for anything that is not a JSON object with an envelope."""
    try:
        raw = msgspec.json.decode(content)
    except msgspec.DecodeError:  # never chained: the error would hold the body
        return None
    if not isinstance(raw, dict):
        return None
    try:
        return Answer(convert(raw, Envelope), raw)
    except (msgspec.ValidationError, ValueError, TypeError):
        return None


class NonVoipApi:
    """One account's requests; the password lives only here and in request bodies."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, email: str, password: str,
                 policy: RetryPolicy) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._email = email
        self._password = password
        self._policy = policy
        # getsms is polled again and again: the poller is its retry (and paces 429s itself).
        self._poll_policy = replace(policy, max_attempts=1)

    def __repr__(self) -> str:  # never the password (nor the email): reprs end up in logs
        return f"NonVoipApi(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    async def read(self, path: str, body: Mapping[str, Any] | None = None) -> Answer:
        """A safe request (balance, products, saveurl): retried; the success envelope or an error."""
        return self.checked(await self._send(path, body, policy=self._policy), path)

    async def poll(self, path: str, body: Mapping[str, Any]) -> Reply:
        """getsms, sent once per poll; the caller reads "error" answers (no SMS yet, expired, ...)."""
        reply = await self._send(path, body, policy=self._poll_policy)
        status = reply.response.status_code
        if status == 429 or status >= 500 or reply.answer is None:
            raise error_for(reply.response, reply.envelope, path, self._password)
        return reply

    async def act(self, path: str, body: Mapping[str, Any]) -> Answer:
        """reject / activate: charge nothing, sent once (retried only if it never left)."""
        try:
            reply = await self._send(path, body, policy=self._policy, may_charge=True)
        except ProviderUnavailable:
            raise ProviderUnavailable(provider=PROVIDER) from None  # nothing was charged
        return self.checked(reply, path)

    async def buy(self, path: str, body: Mapping[str, Any]) -> Answer:
        """order / reuse / renew: the success or `info` envelope; an unknown outcome may have charged."""
        reply = await self._send(path, body, policy=self._policy, may_charge=True)
        status = reply.response.status_code
        if status >= 500:
            logger.warning("nonvoip %s -> %s: outcome unknown, not retried", path, status)
            raise unconfirmed_purchase()
        if reply.ok and reply.answer is None:
            logger.warning("nonvoip %s -> %s: unreadable purchase answer", path, status)
            raise unreadable_purchase()
        if reply.ok and reply.answer is not None and reply.answer.envelope.status == "info":
            return reply.answer  # a decision for the user: nothing was bought
        return self.checked(reply, path)

    def checked(self, reply: Reply, path: str) -> Answer:
        if reply.ok and reply.answer is not None and reply.answer.envelope.status == "success":
            return reply.answer
        raise error_for(reply.response, reply.envelope, path, self._password)

    async def _send(
        self, path: str, body: Mapping[str, Any] | None, *, policy: RetryPolicy, may_charge: bool = False
    ) -> Reply:
        response = await send_with_retry(
            self._http, "POST", self._base_url + path, provider=PROVIDER, policy=policy,
            json={"email": self._email, "password": self._password, **(body or {})},
            may_charge=may_charge,
        )
        return Reply(response, read_answer(response.content))
