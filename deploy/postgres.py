"""The example's PostgreSQL: the server at DATABASE_URL when it is set, else one of the `pgserver`
wheel (PostgreSQL's own binaries, installed by the dev set-up) with its data in a folder that
outlives the example, so a restart finds the bot's data again."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE_NAME = "otp_rental_bot"


@dataclass
class Postgres:
    """`url` for the bot (never printed: a real one may carry a password); `pid` of the server the
    example started (None: an existing server, which the example leaves running)."""

    url: str
    pid: int | None = None
    data_dir: Path | None = None
    _server: Any = None

    def describe(self) -> str:
        if self._server is None:
            return "PostgreSQL: the existing server at DATABASE_URL"
        return f"PostgreSQL: pid {self.pid}, data in {self.data_dir} (pgserver)"

    def stop(self) -> None:
        """Stop the server the example started (its data stays); an existing one is not ours."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def start_postgres(database_url: str | None, data_dir: Path) -> Postgres:
    if database_url:
        return Postgres(database_url)
    with warnings.catch_warnings():  # pgserver asks platformdirs for XDG_RUNTIME_DIR, often unset
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        # Run as root, pgserver runs PostgreSQL as a `pgserver` user it creates (PostgreSQL refuses
        # root) and opens the folder's parents to it. "stop": stopped, never deleted, at the end.
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    if DATABASE_NAME not in server.psql(f"SELECT datname FROM pg_database WHERE datname = '{DATABASE_NAME}';"):
        server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
    return Postgres(server.get_uri(DATABASE_NAME), server.get_pid(), data_dir, server)
