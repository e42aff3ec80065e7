"""The "Buy again" buttons (handlers/buy_again.py answers them): their callback data, an order id
and nothing else (prefix "rb"; `decode` never raises), and the rows /start and /buy show: the
chat's last few distinct services, newest first."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers import callbacks as cb
from handlers import keyboards
from handlers.services import Services
from handlers.texts import again as again_texts
from providers.registry import capabilities_of
from storage.again import AgainStore, RecentService

MAX_AGAIN = 4  # buttons shown
_PREFIX = "rb"
_DATA = re.compile(rf"{_PREFIX}:([0-9]{{1,19}})")  # ASCII digits only


def again_data(order_id: int) -> str:
    if not 0 <= order_id <= cb.MAX_ORDER_ID:
        raise ValueError("order id out of range")
    return f"{_PREFIX}:{order_id}"


def decode(data: object) -> int | None:
    """The order id of a "Buy again" button; None for anything else (never raises)."""
    if not isinstance(data, str) or len(data) > cb.MAX_BYTES:
        return None
    found = _DATA.fullmatch(data)
    return int(found.group(1)) if found and int(found.group(1)) <= cb.MAX_ORDER_ID else None


def matches() -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern."""
    return lambda data: decode(data) is not None


def _kind(item: RecentService) -> tuple[object, ...]:
    """What makes two purchases the same service: a GotSMS plan's duration is chosen again."""
    section = item.section.partition(":")[0] if capabilities_of(item.provider).chooses_plan else item.section
    return (item.provider, section, item.service_ids)


def distinct_recent(items: Sequence[RecentService], limit: int = MAX_AGAIN) -> list[RecentService]:
    """Newest first, one per service, at most `limit`."""
    seen: set[tuple[object, ...]] = set()
    chosen: list[RecentService] = []
    for item in items:
        if item.provider in keyboards.SUPPORTED and item.service_ids and _kind(item) not in seen:
            seen.add(_kind(item))
            chosen.append(item)
        if len(chosen) == limit:
            break
    return chosen


async def again_rows(services: Services, chat_id: int) -> list[list[InlineKeyboardButton]]:
    """One button per recent service (none for a chat that bought nothing)."""
    recent = distinct_recent(await AgainStore(services.db).recent_purchases(chat_id))
    return [
        [InlineKeyboardButton(again_texts.again_label(r.service_name, r.provider), callback_data=again_data(r.order_id))]
        for r in recent
    ]


async def with_again(services: Services, chat_id: int, markup: InlineKeyboardMarkup, *, first: bool) -> InlineKeyboardMarkup:
    """`markup` with the "Buy again" rows: first (the main menu) or above its last row (Back)."""
    rows = await again_rows(services, chat_id)
    if not rows:
        return markup
    existing = [list(row) for row in markup.inline_keyboard]
    if first:
        return InlineKeyboardMarkup([*rows, *existing])
    return InlineKeyboardMarkup([*existing[:-1], *rows, *existing[-1:]])
