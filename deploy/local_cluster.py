"""The bot scaled out on one machine: PostgreSQL, `python -m bot migrate` once, two `python -m bot web`
behind a round-robin front on the public port, three `python -m bot worker`.

    .venv/bin/python -m deploy.local_cluster [--port 8443] [--webs 2] [--workers 3]

It reads the bot's usual variables from the environment and `.env` (TELEGRAM_BOT_TOKEN,
BOT_ENCRYPTION_KEY, PUBLIC_URL, ...). DATABASE_URL set: that server; unset: a PostgreSQL of the
`pgserver` wheel with its data in `--data-dir`. The front here only lets the example run with
nothing else installed: a real deployment puts nginx, haproxy or a cloud load balancer there (and
a supervisor such as systemd that restarts a process that exits). Ctrl-C or SIGTERM stops every
process it started. One line per process on stdout; the processes' own logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from dotenv import load_dotenv

from deploy.postgres import Postgres, start_postgres
from deploy.round_robin import RoundRobinProxy

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
READY_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 15.0  # then SIGKILL: a web process finishes its requests, a worker its tick
DEFAULT_PORT = 8443


class ClusterError(Exception):
    """Start-up failed; `str()` is the one line shown."""


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    url: str | None = None  # a web process's own address (the front's upstream)

    @property
    def running(self) -> bool:
        return self.process.returncode is None


def _say(line: str) -> None:
    print(line, flush=True)


async def _bot(command: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    # The children's logs go to our stderr: stdout keeps one line per process for the operator.
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", command, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=sys.stderr.fileno()
    )


async def _until(probe: Callable[[], Awaitable[bool]], children: list[Child], what: str) -> None:
    """Until `probe()` holds; fail when a child exits or the time is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT_SECONDS
    while not await probe():
        if exited := [c for c in children if not c.running]:
            raise ClusterError(f"{exited[0].name} exited with code {exited[0].process.returncode} while starting")
        if loop.time() > deadline:
            raise ClusterError(f"not within {READY_TIMEOUT_SECONDS:g} s: {what}")
        await asyncio.sleep(0.1)


async def _healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as http:
            return (await http.get(f"{url}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _wait_heartbeats(database_url: str, workers: list[Child], children: list[Child]) -> None:
    """Until every worker has written its heartbeat (a worker id is "host:pid:random", bot/roles.py)."""
    from storage.database import open_database

    db = await open_database(url=database_url, path=Path("unused.sqlite3"))  # SQLite is never opened

    async def all_beating() -> bool:
        rows = await db.fetchall("SELECT worker_id FROM workers")
        pids = {str(row["worker_id"]).split(":")[1] for row in rows}
        return all(str(worker.process.pid) in pids for worker in workers)

    try:
        await _until(all_beating, children, "every worker heartbeating")
    finally:
        await db.close()


class LocalCluster:
    def __init__(self, args: argparse.Namespace, env: dict[str, str], public_url: str) -> None:
        self.args, self.env, self.public_url = args, env, public_url
        self.children: list[Child] = []
        self.front: RoundRobinProxy | None = None
        self.postgres: Postgres | None = None

    async def start(self) -> None:
        args, env = self.args, self.env
        self.postgres = await asyncio.to_thread(start_postgres, env.get("DATABASE_URL"), args.data_dir)
        _say(f"started {self.postgres.describe()}")
        env = env | {"DATABASE_URL": self.postgres.url}
        migrate = await _bot("migrate", env)
        if await migrate.wait() != 0:
            raise ClusterError(f"`python -m bot migrate` failed with code {migrate.returncode}")
        _say("migrated: `python -m bot migrate` done")
        web_urls = [f"http://127.0.0.1:{port}" for port in args.web_ports]
        # The front first: Telegram's first webhook posts find it, and get 502 until a web is up.
        self.front = RoundRobinProxy(web_urls, host=args.listen, port=args.port)
        await self.front.start()
        _say(f"started front (round robin) in pid {os.getpid()} on {args.listen}:{self.front.port} -> {', '.join(web_urls)}")
        for number, (port, url) in enumerate(zip(args.web_ports, web_urls, strict=True), start=1):
            web_env = env | {"PUBLIC_URL": self.public_url, "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port)}
            self.children.append(Child(f"web{number}", await _bot("web", web_env), url))
            _say(f"started web{number} pid {self.children[-1].process.pid} on {url}")
        for number in range(1, args.workers + 1):
            self.children.append(Child(f"worker{number}", await _bot("worker", env)))
            _say(f"started worker{number} pid {self.children[-1].process.pid}")
        webs = [c.url for c in self.children if c.url]
        workers = [c for c in self.children if not c.url]

        async def webs_healthy() -> bool:
            return all([await _healthy(url) for url in webs])

        await _until(webs_healthy, self.children, "every web process answering 200 on /healthz")
        await _wait_heartbeats(env["DATABASE_URL"], workers, self.children)
        _say(f"ready: Telegram's webhook is {self.public_url.rstrip('/')}/telegram (the web processes set it);"
             f" {self.public_url.rstrip('/')} must reach port {self.front.port} of this machine")

    async def wait(self, stop: asyncio.Event) -> int:
        """Until a stop signal (0) or until a process exits on its own (1: all the others stop too)."""
        while not stop.is_set():
            if exited := [c for c in self.children if not c.running]:
                _say(f"{exited[0].name} exited with code {exited[0].process.returncode}; stopping everything")
                return 1
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass
        return 0

    async def stop(self) -> None:
        """SIGTERM to every child, SIGKILL after the grace time; then the front and PostgreSQL."""
        for child in self.children:
            if child.running:
                child.process.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                await asyncio.wait_for(child.process.wait(), STOP_GRACE_SECONDS)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()
            _say(f"stopped {child.name} (code {child.process.returncode})")
        if self.front is not None:
            await self.front.stop()
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)
            _say("stopped PostgreSQL" if self.postgres.pid else "left PostgreSQL at DATABASE_URL running")


async def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    public_url = (env.get("PUBLIC_URL") or env.get("WEBHOOK_URL") or "").strip()
    if not public_url:
        print("configuration error: PUBLIC_URL: is missing; the web processes take Telegram's updates"
              " by webhook at PUBLIC_URL/telegram", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    cluster = LocalCluster(args, env, public_url)
    try:
        starting = asyncio.create_task(cluster.start())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # a stop signal while starting
            starting.cancel()
            return 0
        stopping.cancel()
        starting.result()
        return await cluster.wait(stop)
    except (ClusterError, OSError) as exc:  # OSError: the front's port is taken, say
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await cluster.stop()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.local_cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEBHOOK_PORT") or DEFAULT_PORT),
                        help="the front's (public) port; default WEBHOOK_PORT or 8443")
    parser.add_argument("--listen", default=os.environ.get("WEBHOOK_LISTEN") or "0.0.0.0",
                        help="the front's address; default WEBHOOK_LISTEN or 0.0.0.0")
    parser.add_argument("--webs", type=int, default=2, help="web processes (default 2)")
    parser.add_argument("--web-ports", type=lambda s: [int(p) for p in s.split(",")],
                        help="their ports on 127.0.0.1, comma-separated (default: the next ports after --port)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes (default 3)")
    parser.add_argument("--data-dir", type=Path, default=Path("data/postgres"),
                        help="PostgreSQL's data folder when DATABASE_URL is unset (default data/postgres)")
    args = parser.parse_args(argv)
    if args.web_ports is None:
        args.web_ports = [args.port + i for i in range(1, args.webs + 1)]
    if len(args.web_ports) != args.webs or args.webs < 1 or args.workers < 1:
        parser.error("--web-ports must name one port per web process; at least one web and one worker")
    return args


def main(argv: list[str] | None = None) -> None:
    load_dotenv(Path.cwd() / ".env", override=False)  # before the defaults that read it
    raise SystemExit(asyncio.run(run(_parse(argv))))


if __name__ == "__main__":
    main()
