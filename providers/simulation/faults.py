"""Injected faults of every simulator: rules, the queues that hand them out, and the answers they make.

A `Rule` says which requests it hits (method, path, account, a seeded chance) and what happens to
them: an answer instead of processing (fail_next), a lost answer after processing (a status/body,
the real body cut in half, or a dropped connection), or a wait before or after the work. How a path
matches is the one real difference between the providers: kiwiSMS and GotSMS match a plain string
prefix ("/api/v1/rentals" also hits "/api/v1/rentals/{id}/cancel"); NonVoipUsNumber matches whole
path segments, and "" or "*" hits every path.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

PathMatch = Literal["prefix", "segments"]
Body = dict[str, Any] | str | None


class Loss(StrEnum):
    """How the answer of a request that WAS processed gets lost."""

    REPLACED = "replaced"  # the rule's own status and body instead
    TRUNCATED = "truncated"  # the real status with the first half of its JSON body
    DROPPED = "dropped"  # headers, part of the body, then the connection closes


@dataclass
class Rule:
    """One injected fault or latency, used for the next `times` matching requests."""

    path: str
    times: int = 1
    method: str = "*"  # upper-case, or "*" for any
    account: str | None = None  # only this account's requests (a per-account 429 storm)
    chance: float = 1.0  # the share of matching requests it hits (seeded: runs repeat)
    status: int = 0
    body: Body = None
    headers: dict[str, str] | None = None
    seconds: float = 0.0  # delays and stalls
    loss: Loss = Loss.REPLACED  # lost answers

    def matches(self, method: str, path: str, account: str | None, how: PathMatch) -> bool:
        if self.method not in ("*", method):
            return False
        if self.account is not None and self.account != account:
            return False
        if how == "prefix":
            return path.startswith(self.path)
        if self.path in ("", "*"):
            return True
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


class RuleQueue:
    """The first matching rule is used and counts down its `times`."""

    def __init__(self, paths: PathMatch = "prefix", seed: str = "simulator-faults") -> None:
        self._paths = paths
        self._rules: list[Rule] = []
        self._rng = random.Random(seed)

    def add(self, rule: Rule) -> None:
        if rule.times > 0:
            self._rules.append(rule)

    def take(self, method: str, path: str, account: str | None = None) -> Rule | None:
        if not self._rules:  # the hot path (benchmark polling) pays nothing when no rule is set
            return None
        for rule in self._rules:
            if rule.matches(method, path, account, self._paths) and (
                rule.chance >= 1 or self._rng.random() < rule.chance
            ):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self._rules.clear()


class Faults:
    """The four queues a simulator consults for each request, and the order it consults them in."""

    def __init__(self, paths: PathMatch = "prefix", seed: str = "simulator-faults") -> None:
        self.instead = RuleQueue(paths, seed)  # fail_next: answered INSTEAD of processed
        self.stalls = RuleQueue(paths, seed)  # wait BEFORE the work
        self.delays = RuleQueue(paths, seed)  # the work is done, only the answer is late
        self.losses = RuleQueue(paths, seed)  # the work is done, the answer is lost

    def injected(self, method: str, path: str, account: str | None = None) -> Response | None:
        """fail_next's answer for this request, if a rule hits it."""
        rule = self.instead.take(method, path, account)
        return None if rule is None else injected_response(rule)

    async def around(
        self,
        method: str,
        path: str,
        account: str | None,
        work: Callable[[], Awaitable[Response]],
        pause: Callable[[float], Awaitable[None]],
        guard: Callable[[Callable[[], Awaitable[Response]]], Awaitable[Response]] | None = None,
    ) -> Response:
        """Run `work` with this request's stall, lost answer and delay. `guard` wraps the stalled
        work (kiwiSMS's idempotency record must be pending while the stall lasts)."""
        stall = self.stalls.take(method, path, account)
        delay = self.delays.take(method, path, account)
        loss = self.losses.take(method, path, account)

        async def stalled() -> Response:
            if stall is not None:
                await pause(stall.seconds)
            return await work()

        response = await (stalled() if guard is None else guard(stalled))
        if loss is not None:
            response = lost_answer(loss, response)
        if delay is not None:
            await pause(delay.seconds)
        return response


def injected_response(rule: Rule) -> Response:
    """fail_next: a dict is sent as JSON, a str verbatim (to simulate garbage), None as an empty body."""
    headers = dict(rule.headers or {})
    if isinstance(rule.body, dict):
        return JSONResponse(rule.body, status_code=rule.status, headers=headers)
    if isinstance(rule.body, str):
        media = headers.pop("content-type", headers.pop("Content-Type", "text/plain"))
        return Response(rule.body, status_code=rule.status, headers=headers, media_type=media)
    return Response(b"", status_code=rule.status, headers=headers)


def lost_answer(rule: Rule, processed: Response) -> Response:
    """What the client gets instead of `processed`, the answer of a request that took effect."""
    if rule.loss is Loss.REPLACED:
        return injected_response(rule)
    if rule.loss is Loss.DROPPED:
        return DroppedResponse(bytes(processed.body), processed.status_code)
    # Half the body: never valid JSON (an object or a list needs its closing bracket).
    body = bytes(processed.body)
    return Response(body[: max(1, len(body) // 2)], status_code=processed.status_code,
                    media_type="application/json")


class DroppedResponse(Response):
    """Promises the whole body (Content-Length), sends half, and the server closes the connection."""

    def __init__(self, body: bytes, status_code: int) -> None:
        super().__init__(body, status_code=status_code, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        half = self.body[: len(self.body) // 2]
        # Returning with the body unfinished makes uvicorn close the connection (it logs one line).
        await send({"type": "http.response.body", "body": half, "more_body": True})
