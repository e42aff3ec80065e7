"""What a user sees of delivered codes: which chat got which code how many times, and when."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.fakes.telegram import FakeTelegram

# The code message starts with the code (tests/helpers.Chat.codes_sent reads it the same way).
_CODE_LINE = re.compile(r"^🔑 (\S+)")


def code_sends(tg: FakeTelegram, chat_ids: Iterable[int]) -> dict[str, list[tuple[int, float]]]:
    """code -> [(chat_id, sent_at)] for every code message sent (edits do not count)."""
    found: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for chat_id in chat_ids:
        for message in tg.sent(chat_id):
            match = _CODE_LINE.match(message.text)
            if match:
                found[match.group(1)].append((chat_id, message.sent_at))
    return found


async def wait_for_codes(tg: FakeTelegram, expected: dict[str, int], timeout: float) -> None:
    """Until every code has reached its chat at least once (woken by the fake's own events)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for code, chat_id in expected.items():
        remaining = deadline - loop.time()
        try:
            await tg.wait_for_text(chat_id, f"🔑 {code}", timeout=max(0.01, remaining), since=0)
        except AssertionError:
            missing = [c for c, chat in expected.items() if not _was_sent(tg, chat, c)]
            raise AssertionError(
                f"codes never delivered within {timeout}s: {missing} (of {sorted(expected)})"
            ) from None


def _was_sent(tg: FakeTelegram, chat_id: int, code: str) -> bool:
    return any(m.text.startswith(f"🔑 {code}") for m in tg.sent(chat_id))


@dataclass
class DeliveryReport:
    """Codes as a user would count them, against what the provider received."""

    missing: list[str] = field(default_factory=list)
    misrouted: dict[str, list[int]] = field(default_factory=dict)  # code -> chats it wrongly reached
    repeats: dict[str, int] = field(default_factory=dict)  # code -> times sent, when more than once

    def problems(self, *, repeatable: set[str] = frozenset(), max_repeated_messages: int = 0,
                 origin: dict[str, str] | None = None) -> list[str]:
        """Everything wrong; `repeatable` codes may come twice (the documented at-least-once gap),
        at most `max_repeated_messages` such repeats in all. `origin`: code -> where it came from."""
        found: list[str] = []
        if self.missing:
            found.append(f"missing codes: {self.missing}")
        if self.misrouted:
            found.append(f"codes sent to another chat: {self.misrouted}")
        forbidden = {c: n for c, n in self.repeats.items() if c not in repeatable or n > 2}
        if forbidden:
            found.append(f"codes sent more than once: {forbidden}")
        allowed = {c: n for c, n in self.repeats.items() if c in repeatable and n == 2}
        too_many = len(allowed) > max_repeated_messages
        if too_many:
            found.append(f"more repeats than the at-least-once gap allows ({max_repeated_messages}): {allowed}")
        if origin:  # where each code in a problem came from (an allowed repeat is no problem)
            involved = [*self.missing, *self.misrouted, *forbidden, *(allowed if too_many else ())]
            found += [f"  {code}: {origin[code]}" for code in involved if code in origin]
        return found


def delivery_report(tg: FakeTelegram, expected: dict[str, int], chat_ids: Iterable[int]) -> DeliveryReport:
    """expected: code -> the chat it belongs to; chat_ids: every chat of the test."""
    sends = code_sends(tg, chat_ids)
    report = DeliveryReport()
    for code, chat_id in expected.items():
        mine = [at for chat, at in sends.get(code, []) if chat == chat_id]
        others = sorted({chat for chat, _ in sends.get(code, []) if chat != chat_id})
        if not mine:
            report.missing.append(code)
        if others:
            report.misrouted[code] = others
        if len(mine) > 1:
            report.repeats[code] = len(mine)
    return report


def sent_before(tg: FakeTelegram, expected: dict[str, int], moment: float) -> set[str]:
    """Codes whose first message Telegram accepted before `moment` (time.time()): those a kill
    at `moment` may have caught between Telegram's answer and the bot's record of it."""
    sends = code_sends(tg, set(expected.values()))
    return {code for code, times in sends.items() if code in expected and min(at for _, at in times) <= moment}
