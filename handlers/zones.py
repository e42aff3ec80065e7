"""Time zones a chat can choose, and times shown in them with the zone named."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton

from handlers import i18n
from handlers.i18n import N_, _
from storage.chat_settings import TIME_ZONE, ChatSettingsStore

if TYPE_CHECKING:
    from handlers.services import Services

logger = logging.getLogger(__name__)

DEFAULT_ZONE = "UTC"
# A short list of common zones (IANA names, so summer time is right), west to east; the buttons
# show each one's current offset. City names are translated where shown (button_label).
ZONES: dict[str, str] = {
    "America/Los_Angeles": N_("Los Angeles"),
    "America/Denver": N_("Denver"),
    "America/Chicago": N_("Chicago"),
    "America/New_York": N_("New York"),
    "America/Sao_Paulo": N_("São Paulo"),
    "UTC": "UTC",
    "Europe/London": N_("London"),
    "Europe/Berlin": N_("Berlin"),
    "Europe/Kiev": N_("Kyiv"),
    "Europe/Moscow": N_("Moscow"),
    "Asia/Dubai": N_("Dubai"),
    "Asia/Kolkata": N_("India"),
    "Asia/Bangkok": N_("Bangkok"),
    "Asia/Shanghai": N_("China"),
    "Asia/Tokyo": N_("Tokyo"),
    "Australia/Sydney": N_("Sydney"),
}


@lru_cache(maxsize=len(ZONES))
def zone(name: str) -> tzinfo:
    """The zone of a stored name; UTC for a name not on the list (or missing from the system)."""
    if name not in ZONES or name == DEFAULT_ZONE:
        return UTC
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # no tz database on this machine: better UTC than a crash
        logger.warning("time zone %s is not available here; showing UTC", name)
        return UTC


def zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", DEFAULT_ZONE)


def offset(tz: tzinfo, at: datetime | None = None) -> str:
    """ "UTC+2", "UTC−3", "UTC+5:30" at `at` (now by default)."""
    delta = (at or datetime.now(UTC)).astimezone(tz).utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(tz: tzinfo, at: datetime | None = None) -> str:
    """How a time names its zone: "UTC", or "Europe/Berlin (UTC+2)"."""
    name = zone_name(tz)
    return "UTC" if name == DEFAULT_ZONE else f"{name} ({offset(tz, at)})"


def button_label(name: str) -> str:
    """A zone's button: its city and current offset."""
    city = _(ZONES[name])
    return city if name == DEFAULT_ZONE else f"{city} ({offset(zone(name))})"


def local_time(moment: datetime, tz: tzinfo) -> str:
    """ "May 1, 2025, 16:05 Europe/Berlin (UTC+2)" ("1 мая 2025 г., 16:05 …"): the zone is always named."""
    return f"{short_time(moment, tz)} {zone_label(tz, moment)}"


def short_time(moment: datetime, tz: tzinfo) -> str:
    """Within a screen that names the zone once: the date and 24-hour time in the chat's
    language ("May 1, 2025, 16:05", "1 мая 2025 г., 16:05")."""
    language = i18n.locale()
    local = moment.astimezone(tz)
    date = format_skeleton("yMMMd", local, locale=language)
    clock = format_skeleton("Hm", local, locale=language)
    pattern = language.datetime_formats.get("medium", "{1}, {0}")
    return str(pattern).replace("{1}", date).replace("{0}", clock)


def month_name(moment: datetime, tz: tzinfo) -> str:
    """A month heading in the chat's language: "May 2025", "май 2025 г."."""
    return format_skeleton("yMMMM", moment.astimezone(tz), locale=i18n.locale())


async def chat_zone(services: "Services", chat_id: int) -> tzinfo:
    """The chat's chosen zone (UTC until it chooses one)."""
    return zone(await ChatSettingsStore(services.db).get(chat_id, TIME_ZONE) or DEFAULT_ZONE)


async def set_chat_zone(services: "Services", chat_id: int, name: str) -> None:
    await ChatSettingsStore(services.db).set(chat_id, TIME_ZONE, name)
