"""The scale benchmark's PostgreSQL: a server of the `pgserver` wheel (the dev set-up installs it)
in a throwaway folder, with a fresh database per run. Durable by default (fsync on), as a server
that holds money would be; `durable=False` measures without the disk."""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class BenchPostgres:
    server: Any  # pgserver.PostgresServer
    pid: int

    def fresh_database(self, name: str) -> str:
        """A new, empty database `name` (the server itself is new at every run); its URL."""
        self.server.psql(f'CREATE DATABASE "{name}" TEMPLATE template0;')
        return str(self.server.get_uri(name))


@contextmanager
def bench_postgres(durable: bool = True) -> Iterator[BenchPostgres]:
    # Not under a private temp dir: run as root, pgserver runs PostgreSQL as its own user, who
    # must traverse the path.
    root = Path(tempfile.gettempdir()) / "otp-rental-bot-bench"
    root.mkdir(mode=0o755, exist_ok=True)
    with warnings.catch_warnings():  # pgserver asks platformdirs for XDG_RUNTIME_DIR, often unset
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        server = pgserver.get_server(root / uuid.uuid4().hex, cleanup_mode="delete")
    try:
        if not durable:
            server.psql("ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;"
                        " SELECT pg_reload_conf();")
        pid = server.get_pid()
        if pid is None:
            raise RuntimeError("pgserver started no PostgreSQL")
        yield BenchPostgres(server, int(pid))
    finally:
        server.cleanup()
