"""DATABASE_URL: PostgreSQL when set, SQLite at DATABASE_PATH when not; its password never shown."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.__main__ import _sandbox_env
from bot.config import ConfigError, load_settings

TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijk"
URL = "postgresql://bot:s3cr3t-pass@db.example.com:5432/otp"


def _env(**extra: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_ENCRYPTION_KEY": Fernet.generate_key().decode(), **extra}


def test_unset_means_sqlite_and_set_means_postgresql() -> None:
    assert load_settings(_env()).database_url is None
    settings = load_settings(_env(DATABASE_URL=URL))
    assert settings.database_url == URL
    assert "s3cr3t-pass" not in repr(settings)
    assert "s3cr3t-pass" in settings.secrets  # so the log filter masks it


def test_another_scheme_is_refused_without_echoing_the_value() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_env(DATABASE_URL="mysql://bot:s3cr3t-pass@db/otp"))
    assert refused.value.variable == "DATABASE_URL" and "s3cr3t-pass" not in str(refused.value)


def test_the_sandbox_never_uses_a_shared_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("BOT_ENCRYPTION_KEY", Fernet.generate_key().decode())
    env = _sandbox_env()
    assert "DATABASE_URL" not in env and env["DATABASE_PATH"].endswith("sandbox.sqlite3")


def test_the_pool_size_is_read_and_checked() -> None:
    assert load_settings(_env()).database_pool_size == 10
    assert load_settings(_env(DATABASE_POOL_SIZE="25")).database_pool_size == 25
    for bad in ("0", "-3", "ten", "2.5", "100000"):
        with pytest.raises(ConfigError) as refused:
            load_settings(_env(DATABASE_POOL_SIZE=bad))
        assert refused.value.variable == "DATABASE_POOL_SIZE"
