"""Configuration from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from storage.database import DEFAULT_POOL_SIZE
from storage.send_slots import BOT_RATE, CHAT_RATE

DEFAULT_TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_NONVOIP_BASE_URL = "https://nonvoipusnumber.com/manager"
DEFAULT_KIWI_BASE_URL = "https://kiwisms.com"
DEFAULT_GOTSMS_BASE_URL = "https://app.gotsms.org"
DEFAULT_CALLBACK_SAFETY_POLL_SECONDS = 30.0

# BotFather tokens look like "123456789:AAH...": digits, a colon, 30+ url-safe characters.
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Telegram's rule for setWebhook's secret_token: 1-256 of A-Z a-z 0-9 _ -.
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# The HMAC message that derives the webhook secret from the bot token: fixed, so every
# restart (and every process) derives the same secret; versioned, so it can be changed.
WEBHOOK_SECRET_LABEL = b"otp-rental-bot/telegram-webhook-secret/v1"


def derive_webhook_secret(token: str) -> str:
    """HMAC-SHA256(token, label) in hex: 64 characters Telegram accepts, unguessable without the token."""
    return hmac.new(token.encode(), WEBHOOK_SECRET_LABEL, hashlib.sha256).hexdigest()


class ConfigError(Exception):
    """A variable is missing or invalid; `str()` is the one line shown at start-up."""

    def __init__(self, variable: str, reason: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {reason}")


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str = field(repr=False)
    encryption_keys: tuple[str, ...] = field(repr=False)
    database_path: Path = Path("./data/bot.sqlite3")
    # postgresql://user:password@host/db selects PostgreSQL instead of the SQLite file; it may
    # carry a password, so it is never shown.
    database_url: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = DEFAULT_TELEGRAM_API_BASE_URL
    nonvoip_base_url: str = DEFAULT_NONVOIP_BASE_URL
    kiwi_base_url: str = DEFAULT_KIWI_BASE_URL
    gotsms_base_url: str = DEFAULT_GOTSMS_BASE_URL
    poll_interval_seconds: float = 3.0
    provider_timeout_seconds: float = 15.0
    allowed_user_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    # How long a sender holds an outbox row before another may send it (its holder died).
    outbox_lease_seconds: float = 30.0
    # An account whose provider callbacks work is polled only this often (the safety net).
    callback_safety_poll_seconds: float = DEFAULT_CALLBACK_SAFETY_POLL_SECONDS
    # Telegram's flood limits, kept for every process in the database (storage/send_slots.py).
    telegram_messages_per_second: float = BOT_RATE.per_second
    telegram_chat_messages_per_second: float = CHAT_RATE.per_second
    # The most connections one process opens to PostgreSQL (DATABASE_URL only).
    database_pool_size: int = DEFAULT_POOL_SIZE

    def __post_init__(self) -> None:
        # Webhook mode is never unauthenticated, however the settings were built.
        if self.webhook_url and not self.webhook_secret:
            object.__setattr__(self, "webhook_secret", derive_webhook_secret(self.telegram_bot_token))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never reach a log line."""
        values = [self.telegram_bot_token, *self.encryption_keys]
        if self.webhook_secret:
            values.append(self.webhook_secret)
        if self.database_url and (password := urlsplit(self.database_url).password):
            values.append(password)
        return tuple(values)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = _get(env, name) or default
    if not re.match(r"^https?://[^\s]+$", value):
        raise ConfigError(name, "must be an http(s) URL")
    return value


def _token(env: Mapping[str, str]) -> str:
    token = _get(env, "TELEGRAM_BOT_TOKEN")
    if token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN", "is missing; get one from @BotFather")
    if not _TOKEN_RE.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN", "is not a valid bot token (expected 123456:ABC...)")
    return token


def parse_encryption_keys(raw: str | None) -> tuple[str, ...]:
    """Comma-separated Fernet keys; the first encrypts, all decrypt."""
    if raw is None:
        raise ConfigError(
            "BOT_ENCRYPTION_KEY", "is missing; create one with `python -m bot keygen`"
        )
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not keys:
        raise ConfigError("BOT_ENCRYPTION_KEY", "is empty")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                "BOT_ENCRYPTION_KEY",
                f"key #{position} is not a valid Fernet key (32 url-safe base64-encoded bytes)",
            ) from None
    return keys


def _allowed_users(env: Mapping[str, str]) -> frozenset[int]:
    raw = _get(env, "ALLOWED_USER_IDS")
    if raw is None:
        return frozenset()
    try:
        return frozenset(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError("ALLOWED_USER_IDS", "must be comma-separated numeric user ids") from None


def _port(env: Mapping[str, str]) -> int:
    raw = _get(env, "WEBHOOK_PORT")
    if raw is None:
        return 8443
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError("WEBHOOK_PORT", "must be a TCP port number")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    """A duration in seconds (fractions allowed) within [low, high]."""
    return _number(env, name, default, low, high, "a number of seconds")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float, what: str) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be {what}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low:g} and {high:g}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int, what: str) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ConfigError(name, f"must be {what}")
    if not low <= int(raw) <= high:
        raise ConfigError(name, f"must be between {low} and {high}")
    return int(raw)


def database_url(env: Mapping[str, str]) -> str | None:
    """DATABASE_URL: a PostgreSQL URL, or unset for SQLite at DATABASE_PATH."""
    url = _get(env, "DATABASE_URL")
    if url is None:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        # Never echo the value: it may carry a password.
        raise ConfigError("DATABASE_URL", "must be a postgresql:// URL (unset it to use SQLite at DATABASE_PATH)")
    return url


def database_path(env: Mapping[str, str]) -> Path:
    return Path(_get(env, "DATABASE_PATH") or "./data/bot.sqlite3")


def _log_level(env: Mapping[str, str]) -> str:
    level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if level not in _LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"must be one of {', '.join(_LOG_LEVELS)}")
    return level


def _webhook_url(env: Mapping[str, str]) -> str | None:
    """PUBLIC_URL, or its alias WEBHOOK_URL; unset = long polling."""
    for name in ("PUBLIC_URL", "WEBHOOK_URL"):
        if _get(env, name) is not None:
            return _url(env, name, "")
    return None


def _webhook_secret(env: Mapping[str, str], token: str, webhook_url: str | None) -> str | None:
    secret = _get(env, "WEBHOOK_SECRET")
    if secret is not None and not _WEBHOOK_SECRET_RE.match(secret):
        # Never echo the value: it is a secret even when it is a wrong one.
        raise ConfigError("WEBHOOK_SECRET", "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return secret  # None in webhook mode: Settings derives it from the token


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every variable of PRODUCT.md §1; raise ConfigError on the first bad one."""
    env = os.environ if env is None else env
    token = _token(env)
    webhook_url = _webhook_url(env)
    return Settings(
        telegram_bot_token=token,
        encryption_keys=parse_encryption_keys(_get(env, "BOT_ENCRYPTION_KEY")),
        database_path=database_path(env),
        database_url=database_url(env),
        telegram_api_base_url=_url(env, "TELEGRAM_API_BASE_URL", DEFAULT_TELEGRAM_API_BASE_URL),
        nonvoip_base_url=_url(env, "NONVOIP_BASE_URL", DEFAULT_NONVOIP_BASE_URL),
        kiwi_base_url=_url(env, "KIWI_BASE_URL", DEFAULT_KIWI_BASE_URL),
        gotsms_base_url=_url(env, "GOTSMS_BASE_URL", DEFAULT_GOTSMS_BASE_URL),
        poll_interval_seconds=_seconds(env, "POLL_INTERVAL_SECONDS", 3.0, 0.05, 3600),
        provider_timeout_seconds=_seconds(env, "PROVIDER_TIMEOUT_SECONDS", 15.0, 0.1, 300),
        allowed_user_ids=_allowed_users(env),
        webhook_url=webhook_url,
        webhook_listen=_get(env, "WEBHOOK_LISTEN") or "0.0.0.0",
        webhook_port=_port(env),
        webhook_secret=_webhook_secret(env, token, webhook_url),
        log_level=_log_level(env),
        outbox_lease_seconds=_seconds(env, "OUTBOX_LEASE_SECONDS", 30.0, 1, 3600),
        callback_safety_poll_seconds=_seconds(
            env, "CALLBACK_SAFETY_POLL_SECONDS", DEFAULT_CALLBACK_SAFETY_POLL_SECONDS, 0.1, 3600
        ),
        telegram_messages_per_second=_number(
            env, "TELEGRAM_MESSAGES_PER_SECOND", BOT_RATE.per_second, 0.1, 1000, "messages a second"
        ),
        telegram_chat_messages_per_second=_number(
            env, "TELEGRAM_CHAT_MESSAGES_PER_SECOND", CHAT_RATE.per_second, 0.01, 1000, "messages a second"
        ),
        database_pool_size=_whole(env, "DATABASE_POOL_SIZE", DEFAULT_POOL_SIZE, 1, 1000, "a number of connections"),
    )
