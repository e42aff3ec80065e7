"""Exactly-once accounting: which code reached which chat, how often, and how late."""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tests.fakes.telegram import FakeTelegram

_CODE_LINE = re.compile(r"^🔑 (\d{6})\b")
Sends = dict[str, list[tuple[int, float]]]  # code -> [(chat_id, sent_at), ...]


def sent_codes(tg: FakeTelegram, chat_ids: Iterable[int]) -> Sends:
    """Every code message the fake Bot API received, by code."""
    found: Sends = defaultdict(list)
    for chat_id in chat_ids:
        for message in tg.sent(chat_id):
            match = _CODE_LINE.match(message.text)
            if match:
                found[match.group(1)].append((chat_id, message.sent_at))
    return found


async def drain(tg: FakeTelegram, chat_ids: list[int], codes: set[str], timeout: float) -> float:
    """Wait (bounded) until every injected code reached the fake; returns seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if codes <= sent_codes(tg, chat_ids).keys():
            break
        await asyncio.sleep(0.1)  # the fake has no "message sent" event to await across chats
    return time.monotonic() - start


@dataclass(frozen=True)
class Delivered:
    expected: int
    latencies: list[float]  # ascending: first sendMessage - SMS visible at the provider
    duplicates: dict[str, int]  # code -> sends
    missing: list[str]
    misrouted: list[str]  # sent to a chat that does not own the order

    @property
    def exactly_once(self) -> bool:
        return not self.duplicates and not self.missing and not self.misrouted

    @property
    def count(self) -> int:
        return self.expected - len(self.missing)


def delivered(expected: dict[str, int], found: Sends, visible_at: Callable[[str], float]) -> Delivered:
    """expected: code -> owning chat id; visible_at(code): time.time() the SMS became visible at the provider."""
    latencies: list[float] = []
    duplicates: dict[str, int] = {}
    misrouted: list[str] = []
    for code, chat_id in expected.items():
        sends = found.get(code, [])
        if not sends:
            continue
        if len(sends) > 1:
            duplicates[code] = len(sends)
        if any(chat != chat_id for chat, _ in sends):
            misrouted.append(code)
        latencies.append(min(at for _, at in sends) - visible_at(code))
    latencies.sort()
    return Delivered(len(expected), latencies, duplicates, sorted(set(expected) - found.keys()), misrouted)


def exactly_once_lines(label: str, d: Delivered) -> list[str]:
    lines = [f"{label + ' exactly once':<21}duplicates={len(d.duplicates)} missing={len(d.missing)} "
             f"misrouted={len(d.misrouted)}   ({d.count}/{d.expected} delivered)"]
    if d.duplicates:
        lines.append(f"  duplicated codes (code: sends): {dict(list(d.duplicates.items())[:20])}")
    if d.missing:
        lines.append(f"  missing codes: {d.missing[:20]}{' ...' if len(d.missing) > 20 else ''}")
    if d.misrouted:
        lines.append(f"  misrouted codes: {d.misrouted[:20]}")
    return lines
