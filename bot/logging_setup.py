"""Logging that never prints a secret, at any level."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Bot tokens and kiwiSMS keys have recognisable shapes; redact them even when unregistered.
_PATTERNS = (
    re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}"),
    re.compile(r"lsms_[A-Za-z0-9]+_[A-Za-z0-9]+"),
)
# These libraries log URLs (with the bot token), raw updates (with what users typed) or SQL
# parameters at DEBUG: they never go below INFO, whatever LOG_LEVEL says.
_NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "aiosqlite", "apscheduler", "uvicorn")


class SecretRedactor(logging.Filter):
    """Replaces registered secrets and secret-shaped strings in every record."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def register(self, secrets: Iterable[str]) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        for pattern in _PATTERNS:
            text = pattern.sub("***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


REDACTOR = SecretRedactor()


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    REDACTOR.register(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    # Replace only a handler this function installed before; others (e.g. a test's) stay.
    root.handlers[:] = [h for h in root.handlers if REDACTOR not in h.filters] + [handler]
    root.setLevel(level)
    floor = max(logging.getLevelName(level), logging.INFO)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    # httpx logs every request URL; APScheduler logs every poller run (several a second).
    for name in ("httpx", "apscheduler"):
        logging.getLogger(name).setLevel(max(floor, logging.WARNING))
