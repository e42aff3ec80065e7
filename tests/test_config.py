"""Configuration: what a person running `python -m bot` sees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, load_settings

TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijk"
ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_ENCRYPTION_KEY": Fernet.generate_key().decode(), **extra}


def _run_bot(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "BOT_ENCRYPTION_KEY")}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env={**clean, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=60,
    )


def test_defaults_match_the_product_spec() -> None:
    settings = load_settings(_env())
    assert settings.database_path == Path("./data/bot.sqlite3")
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.kiwi_base_url == "https://kiwisms.com"
    assert settings.poll_interval_seconds == 3.0
    assert settings.allowed_user_ids == frozenset()


def test_fractional_poll_interval_and_allowed_users_are_read() -> None:
    settings = load_settings(_env(POLL_INTERVAL_SECONDS="0.25", ALLOWED_USER_IDS="11, 22", OUTBOX_LEASE_SECONDS="5"))
    assert settings.poll_interval_seconds == 0.25
    assert settings.outbox_lease_seconds == 5.0
    assert settings.allowed_user_ids == frozenset({11, 22})
    assert (settings.telegram_messages_per_second, settings.telegram_chat_messages_per_second) == (30.0, 1.0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", ""),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("BOT_ENCRYPTION_KEY", ""),
        ("BOT_ENCRYPTION_KEY", "short"),
        ("POLL_INTERVAL_SECONDS", "soon"),
        ("PROVIDER_TIMEOUT_SECONDS", "0"),
        ("OUTBOX_LEASE_SECONDS", "0.5"),
        ("OUTBOX_LEASE_SECONDS", "a minute"),
        ("TELEGRAM_MESSAGES_PER_SECOND", "fast"),
        ("TELEGRAM_CHAT_MESSAGES_PER_SECOND", "0"),
        ("ALLOWED_USER_IDS", "alice"),
        ("KIWI_BASE_URL", "ftp://x"),
    ],
)
def test_invalid_variable_is_named(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env(**{variable: value}))
    assert str(caught.value).startswith(variable)


def test_settings_repr_hides_secrets() -> None:
    env = _env()
    text = repr(load_settings(env))
    assert TOKEN not in text and env["BOT_ENCRYPTION_KEY"] not in text


@pytest.mark.parametrize("missing", ["TELEGRAM_BOT_TOKEN", "BOT_ENCRYPTION_KEY"])
def test_start_up_without_a_required_variable_exits_2_with_one_line(missing: str, tmp_path: Path) -> None:
    env = _env()
    del env[missing]
    result = _run_bot(env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and missing in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_key_exits_2_without_echoing_it(tmp_path: Path) -> None:
    result = _run_bot(_env(BOT_ENCRYPTION_KEY="definitely-not-a-fernet-key"), cwd=tmp_path)
    assert result.returncode == 2
    assert "BOT_ENCRYPTION_KEY" in result.stderr
    assert "definitely-not-a-fernet-key" not in result.stderr


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=broken\n")
    result = _run_bot({}, cwd=tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN: is not a valid bot token" in result.stderr


def test_keygen_prints_a_usable_key(tmp_path: Path) -> None:
    result = _run_bot({}, "keygen", cwd=tmp_path)
    assert result.returncode == 0
    Fernet(result.stdout.strip().encode())  # raises if it is not a key


def test_rotate_keys_re_encrypts_with_the_first_key(tmp_path: Path) -> None:
    import asyncio

    from providers.models import ProviderId
    from storage.credentials import CredentialStore
    from storage.crypto import SecretBox
    from storage.database import Database

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    database = tmp_path / "bot.sqlite3"

    async def seal_with_old() -> None:
        db = await Database.open(database)
        await CredentialStore(db, SecretBox([old])).save(5, ProviderId.KIWI, {"api_key": "lsms_a_b"})
        await db.close()

    async def open_with_new() -> dict[str, str] | None:
        db = await Database.open(database)
        try:
            return await CredentialStore(db, SecretBox([new])).load(5, ProviderId.KIWI)
        finally:
            await db.close()

    asyncio.run(seal_with_old())
    result = _run_bot(_env(BOT_ENCRYPTION_KEY=f"{new},{old}", DATABASE_PATH=str(database)), "rotate-keys", cwd=tmp_path)
    assert result.returncode == 0 and "re-encrypted 1" in result.stdout
    assert asyncio.run(open_with_new()) == {"api_key": "lsms_a_b"}


def test_webhook_mode_derives_a_secret_from_the_token_when_none_is_set() -> None:
    from bot.config import derive_webhook_secret

    settings = load_settings(_env(PUBLIC_URL="https://bot.example.com"))
    assert settings.webhook_url == "https://bot.example.com"
    assert settings.webhook_secret == derive_webhook_secret(TOKEN)
    assert settings.webhook_secret in settings.secrets
    assert load_settings(_env(WEBHOOK_URL="https://bot.example.com")).webhook_secret == settings.webhook_secret
    assert load_settings(_env()).webhook_secret is None  # long polling: no webhook, no secret


def test_a_set_webhook_secret_is_used_as_is() -> None:
    settings = load_settings(_env(PUBLIC_URL="https://bot.example.com", WEBHOOK_SECRET="My_own-secret1"))
    assert settings.webhook_secret == "My_own-secret1" and "My_own-secret1" not in repr(settings)


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ünïcode", "semi;colon"])
def test_a_webhook_secret_telegram_would_refuse_is_named_but_not_echoed(secret: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env(PUBLIC_URL="https://bot.example.com", WEBHOOK_SECRET=secret))
    assert str(caught.value).startswith("WEBHOOK_SECRET") and secret not in str(caught.value)
