"""Finding the one-time code in an SMS text the simulators receive (`receive_sms`)."""

from __future__ import annotations

import re
from functools import cache


@cache
def _pattern(shortest: int) -> re.Pattern[str]:
    return re.compile(rf"(?<!\d)\d{{{shortest},8}}(?!\d)")


def code_in(text: str, shortest: int = 4) -> str | None:
    """The first run of `shortest`..8 digits standing on its own, if any."""
    match = _pattern(shortest).search(text)
    return match.group(0) if match else None


def required_code(text: str, given: str | None, *, shortest: int = 4, keyword: str = "code") -> str:
    """`given`, else the code in `text`; a test that sends a text without one must say which."""
    if given is not None:
        return given
    code = code_in(text, shortest)
    if code is None:
        raise ValueError(f"no {shortest}-8 digit code in {text!r}; pass {keyword}= explicitly")
    return code
