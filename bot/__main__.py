"""`python -m bot` runs the bot; `web` and `worker` run one role of it (bot/roles.py); `keygen`,
`rotate-keys`, `migrate` and `sandbox` are its sub-commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from dotenv import load_dotenv

from bot.config import ConfigError, Settings, database_path, database_url, load_settings
from bot.logging_setup import setup_logging

SANDBOX_DATABASE = "./data/sandbox.sqlite3"
SANDBOX_KEY_FILE = Path("./data/sandbox.key")


def _settings_or_exit(env: dict[str, str] | None = None) -> Settings:
    try:
        return load_settings(env)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(settings: Settings, *, sandbox: bool = False) -> None:
    from telegram import Update

    from bot.app import build_application

    setup_logging(settings.log_level, settings.secrets)
    app = build_application(settings, sandbox=sandbox)
    if settings.webhook_url:
        _serve_webhook(app, settings)
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)


def _serve_webhook(app: Any, settings: Settings) -> None:
    """PUBLIC_URL set: our one web server (bot/web) takes Telegram's updates and the providers'
    callbacks; PTB's Updater stays idle (its custom-webhook pattern)."""
    from bot.web.serve import serve
    from bot.web.server import WebServerError

    try:
        asyncio.run(serve(app, settings))
    except WebServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _run_role(role_name: str, settings: Settings) -> None:
    """`web`: the ASGI application only (needs PUBLIC_URL); `worker`: the poller and the outbox only."""
    from bot.app import build_application
    from bot.roles import Role, serve_worker

    role = Role(role_name)
    if role is Role.WEB and not settings.webhook_url:
        print("configuration error: PUBLIC_URL: is missing; `python -m bot web` takes Telegram's updates"
              " by webhook", file=sys.stderr)
        raise SystemExit(2)
    setup_logging(settings.log_level, settings.secrets)
    app = build_application(settings, role=role)
    if role is Role.WEB:
        _serve_webhook(app, settings)
    else:
        asyncio.run(serve_worker(app))


def _sandbox_env() -> dict[str, str]:
    """Sandbox needs only a bot token: a throwaway key is made if none is set. The database is
    always the sandbox's own, whatever DATABASE_PATH says: the sandbox resets it at every start."""
    env = dict(os.environ)
    env["DATABASE_PATH"] = SANDBOX_DATABASE
    env.pop("DATABASE_URL", None)  # never a shared PostgreSQL: the sandbox resets its database
    if not env.get("BOT_ENCRYPTION_KEY"):
        SANDBOX_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        if not SANDBOX_KEY_FILE.exists():
            SANDBOX_KEY_FILE.write_text(Fernet.generate_key().decode())
            SANDBOX_KEY_FILE.chmod(0o600)
        env["BOT_ENCRYPTION_KEY"] = SANDBOX_KEY_FILE.read_text().strip()
    return env


async def _rotate(settings: Settings) -> int:
    from storage.credentials import CredentialStore
    from storage.crypto import SecretBox
    from storage.database import open_database
    from storage.hooks import HookStore

    db = await open_database(url=settings.database_url, path=settings.database_path)
    box = SecretBox(settings.encryption_keys)
    try:
        return await CredentialStore(db, box).rotate_all() + await HookStore(db, box).rotate_all()
    finally:
        await db.close()


async def _migrate(env: dict[str, str]) -> int:
    """Apply the migrations (PostgreSQL: under the advisory lock, so several processes starting
    at once are safe) and return the schema version. Needs only the database settings."""
    from storage.database import open_database

    db = await open_database(url=database_url(env), path=database_path(env))
    try:
        return await db.schema_version()
    finally:
        await db.close()


def _migrate_or_exit() -> None:
    from storage.database import DatabaseTooNew

    try:
        version = asyncio.run(_migrate(dict(os.environ)))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except DatabaseTooNew as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"database schema is at version {version}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="OTP Rental Bot")
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "web", "worker", "keygen", "rotate-keys", "migrate", "sandbox"],
        help="run (default): everything in one process | web: only the web server (Telegram webhook,"
        " provider callbacks; N copies behind a load balancer) | worker: only the pollers and the outbox"
        " (N copies share the accounts) | keygen: print a new encryption key"
        " | rotate-keys: re-encrypt with the first key"
        " | migrate: apply the database migrations and exit | sandbox: run against the built-in provider simulators",
    )
    args = parser.parse_args(argv)
    if args.command == "keygen":
        print(Fernet.generate_key().decode())
        return
    load_dotenv(Path.cwd() / ".env", override=False)
    if args.command == "sandbox":
        _run(_settings_or_exit(_sandbox_env()), sandbox=True)
    elif args.command == "migrate":
        _migrate_or_exit()
    elif args.command in ("web", "worker"):
        _run_role(args.command, _settings_or_exit())
    elif args.command == "rotate-keys":
        settings = _settings_or_exit()
        count = asyncio.run(_rotate(settings))
        print(f"re-encrypted {count} stored credential(s) with the first key")
    else:
        _run(_settings_or_exit())


if __name__ == "__main__":
    main()
