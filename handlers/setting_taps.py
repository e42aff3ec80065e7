"""Callback data of a setting chosen from a fixed list (auto-cancel minutes, the language):
"<prefix>" opens the choices, "<prefix>:<value>" chooses one. Anything else, or a value no longer
on the list, decodes to None, never raises."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class SettingTap:
    """The choices screen (`value` None), or one value chosen."""

    value: str | None


@dataclass(frozen=True)
class SettingCodec:
    prefix: str
    values: Callable[[], Collection[str]]  # asked at each use: the list may change (a new .po file)

    def data(self, value: str | None = None) -> str:
        if value is None:
            return self.prefix
        if value not in self.values():
            raise ValueError("not a choice on the list")
        return f"{self.prefix}:{value}"

    def decode(self, data: object) -> SettingTap | None:
        if data == self.prefix:
            return SettingTap(None)
        if isinstance(data, str) and data.startswith(f"{self.prefix}:"):
            value = data[len(self.prefix) + 1 :]
            if value in self.values():
                return SettingTap(value)
        return None

    def matches(self) -> Callable[[object], bool]:
        return lambda data: self.decode(data) is not None
