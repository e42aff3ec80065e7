"""Code-delivery benchmark: N live kiwiSMS rentals over M chats, K NonVoipUsNumber orders over J chats
and G GotSMS rents over H chats, the bot as a separate process.

    .venv/bin/python -m bench.delivery [--rentals 1000 --chats 100 --nonvoip-orders 200 --nonvoip-chats 20
                                        --gotsms-rents 200 --gotsms-chats 20
                                        --poll-interval 1 --duration 60]

This process runs the kiwiSMS and NonVoipUsNumber simulators and the fake Bot API server (all on
127.0.0.1), seeds the bot's database as if M + J chats had connected and bought their numbers
earlier (kiwiSMS rentals and NonVoipUsNumber 10-minutes orders, both placed over the simulators'
HTTP APIs), starts `python -m bot` against all three, makes one SMS arrive per rental / order at a
uniformly random moment, and prints: code latency (provider-visible -> sendMessage received) per
provider, exactly-once delivery per provider, kiwiSMS list requests per account per tick,
NonVoipUsNumber getsms requests per minute per account against the documented limit (500/min) and
the 429s the simulator answered, and the bot's peak RSS, each next to its target.
NonVoipUsNumber has no "list my orders" endpoint: the bot polls each order with getsms within a
per-account budget of 90% of 500/min, so its latency is bounded by that budget (reported, no target).
GotSMS (issue #4): daily Telegram/USA rents bought through the project's GotSmsClient.create_rent on the
GotSMS simulator; the bot polls each account with ONE `GET /api/messages/unread?mark_as_read=1` per
tick whatever the number of rents. Reported: GotSMS latency (SimRent.message_times[0] -> sendMessage;
no target), exactly-once delivery, unread GETs per account per tick and any other GotSMS request during
the SMS phase (target: 1 unread GET per account per tick, nothing else). `--gotsms-rents 0` = none.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from providers.gotsms.client import GotSmsClient
from providers.kiwi.client import KiwiClient
from providers.models import Offer, ProviderId, RemoteOrder
from providers.nonvoip.client import NonVoipClient
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from storage.credentials import CredentialStore
from storage.crypto import SecretBox
from storage.database import Database
from storage.orders import OrderStore
from tests.fakes.telegram import FakeTelegram

REPO_ROOT = Path(__file__).resolve().parent.parent
LIST_PATH = "/api/v1/rentals"
COUNTRY, SERVICE, SERVICE_NAME = "187", "wa", "WhatsApp"
FIRST_CHAT_ID = 5_000_001
# NonVoipUsNumber: its own chats (after every possible kiwi chat id), one account each, 10-minutes orders.
FIRST_NONVOIP_CHAT_ID = 6_000_001
NONVOIP_SECTION = "10-minutes"
NONVOIP_PRODUCT = "10000086"  # Instagram, 10-minutes (docs/nonvoip.md catalogue)
NONVOIP_GETSMS = "/api/getsms"
NONVOIP_LIMIT_PER_MINUTE = 500  # the simulator's documented per-account limit (= NonVoipClient.requests_per_minute)
NONVOIP_BUDGET_PER_MINUTE = 0.9 * NONVOIP_LIMIT_PER_MINUTE  # what bot/poller.py budgets per account
RATE_WINDOW = 60.0  # the simulator's sliding window
# GotSMS: its own chats (after every possible NonVoip chat id), one account (API token) each, daily rents.
FIRST_GOTSMS_CHAT_ID = 7_000_001
GOTSMS_SERVICE, GOTSMS_DURATION = "Telegram", "day"  # Telegram/USA 1-day plan ($1): nothing expires mid-run
GOTSMS_SECTION = "duration:day"  # the section the bot stores for a daily rent
GOTSMS_UNREAD = "/api/messages/unread"
TARGET_UNREAD_PER_TICK = 1.0
# Targets (stated for N=1000, M=100, POLL_INTERVAL_SECONDS=1).
TARGET_P50 = 0.55
TARGET_P99 = 1.5
TARGET_LIST_PER_TICK = 1.0
TARGET_RSS_MB = 120.0
# Variables the bot reads: the parent's values must not leak into the bot under test.
BOT_ENV_VARS = (
    "TELEGRAM_BOT_TOKEN", "BOT_ENCRYPTION_KEY", "DATABASE_PATH", "TELEGRAM_API_BASE_URL",
    "NONVOIP_BASE_URL", "KIWI_BASE_URL", "GOTSMS_BASE_URL", "POLL_INTERVAL_SECONDS",
    "PROVIDER_TIMEOUT_SECONDS", "ALLOWED_USER_IDS", "WEBHOOK_URL", "WEBHOOK_LISTEN",
    "WEBHOOK_PORT", "WEBHOOK_SECRET", "LOG_LEVEL",
)
_CODE_LINE = re.compile(r"^🔑 (\d{6})\b")


@dataclass(frozen=True)
class Rental:
    rental_id: str
    chat_id: int
    api_key: str


@dataclass(frozen=True)
class NvOrder:
    order_id: str
    chat_id: int
    email: str  # lower-cased: the simulator's rate-limit bucket and RecordedRequest.email


@dataclass(frozen=True)
class GotRent:
    rent_id: str
    chat_id: int
    token: str


@dataclass
class Config:
    rentals: int
    chats: int
    poll_interval: float
    duration: float
    warmup: float
    drain: float
    seed: int
    nonvoip_orders: int = 0
    nonvoip_chats: int = 0
    gotsms_rents: int = 0
    gotsms_chats: int = 0


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.split("\n")[0])
    parser.add_argument("--rentals", type=int, default=1000, help="N live rentals (one SMS each)")
    parser.add_argument("--chats", type=int, default=100, help="M chats, one kiwiSMS account each")
    parser.add_argument("--nonvoip-orders", type=int, default=200,
                        help="K live NonVoipUsNumber 10-minutes orders (one SMS each); 0 = none")
    parser.add_argument("--nonvoip-chats", type=int, default=20,
                        help="J more chats, one NonVoipUsNumber account each")
    parser.add_argument("--gotsms-rents", type=int, default=200,
                        help="G live GotSMS daily rents (one SMS each); 0 = none")
    parser.add_argument("--gotsms-chats", type=int, default=20,
                        help="H more chats, one GotSMS account (API token) each")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="POLL_INTERVAL_SECONDS of the bot")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds over which SMS arrive")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of polling before the first SMS")
    parser.add_argument("--drain", type=float, default=15.0, help="max seconds to wait for late codes")
    parser.add_argument("--seed", type=int, default=1, help="random seed (arrival moments, codes)")
    a = parser.parse_args(argv)
    if a.rentals < 1 or a.chats < 1 or a.chats > a.rentals or a.rentals > 900_000:
        parser.error("need 1 <= chats <= rentals <= 900000")
    if a.nonvoip_orders < 0 or a.nonvoip_orders > 100_000 or (
        a.nonvoip_orders > 0 and not 1 <= a.nonvoip_chats <= a.nonvoip_orders
    ):
        parser.error("need 1 <= nonvoip-chats <= nonvoip-orders <= 100000 (or nonvoip-orders 0)")
    if a.gotsms_rents < 0 or a.gotsms_rents > 100_000 or (
        a.gotsms_rents > 0 and not 1 <= a.gotsms_chats <= a.gotsms_rents
    ):
        parser.error("need 1 <= gotsms-chats <= gotsms-rents <= 100000 (or gotsms-rents 0)")
    if a.duration <= 0 or a.poll_interval < 0.05:
        parser.error("duration must be > 0 and poll-interval >= 0.05")
    return Config(a.rentals, a.chats, a.poll_interval, a.duration, a.warmup, a.drain, a.seed,
                  a.nonvoip_orders, a.nonvoip_chats if a.nonvoip_orders else 0,
                  a.gotsms_rents, a.gotsms_chats if a.gotsms_rents else 0)


# ---------------------------------------------------------------------- seeding


async def seed(sim: KiwiSimulator, tg: FakeTelegram, db_path: Path, fernet_key: str, cfg: Config) -> list[Rental]:
    """Accounts and rentals at the simulator (over HTTP), credentials and orders in the bot's DB."""
    per_chat = -(-cfg.rentals // cfg.chats)
    sim.set_stock(COUNTRY, SERVICE, cfg.rentals + 100)  # never sold out mid-seed
    chats = [(FIRST_CHAT_ID + i, f"lsms_bench{i:05d}_{uuid.uuid4().hex[:16]}") for i in range(cfg.chats)]
    for chat_id, key in chats:
        sim.add_account(key, balance=Decimal(per_chat) * 2 + 10)
        tg.register_chat(chat_id)  # so sendMessage to it succeeds
    db = await Database.open(db_path)
    credentials = CredentialStore(db, SecretBox([fernet_key]))
    orders = OrderStore(db)
    limit = asyncio.Semaphore(32)  # bounded concurrency for the seeding POSTs
    offer = Offer(section=COUNTRY, service=SERVICE, name=SERVICE_NAME, price=Decimal("1000"), stock=None)
    rentals: list[Rental] = []
    try:
        for chat_id, key in chats:
            await credentials.save(chat_id, ProviderId.KIWI, {"api_key": key})
        async with httpx.AsyncClient(timeout=30.0) as http:

            async def buy(index: int) -> None:
                chat_id, key = chats[index % cfg.chats]
                client = KiwiClient(http, sim.base_url, key)
                async with limit:
                    # The project's own client: POST /api/v1/rentals with the key, parsed into a RemoteOrder.
                    remote = await client.place_order(offer, idempotency_key=str(uuid.uuid4()))
                await orders.add(chat_id, ProviderId.KIWI, remote)
                rentals.append(Rental(remote.order_id, chat_id, key))

            await asyncio.gather(*(buy(i) for i in range(cfg.rentals)))
    finally:
        await db.close()
    return rentals


async def seed_nonvoip(sim: NonVoipSimulator, tg: FakeTelegram, db_path: Path, fernet_key: str,
                       cfg: Config) -> list[NvOrder]:
    """NonVoipUsNumber accounts and 10-minutes orders at the simulator (POST /manager/api/order through
    the project's client), credentials {"email", "password"} and orders (section "10-minutes") in the DB."""
    if cfg.nonvoip_orders == 0:
        return []
    per_chat = -(-cfg.nonvoip_orders // cfg.nonvoip_chats)
    sim.set_stock(NONVOIP_PRODUCT, cfg.nonvoip_orders + 100)  # never sold out mid-seed
    chats = [
        (FIRST_NONVOIP_CHAT_ID + i, f"bench{i:05d}-{uuid.uuid4().hex[:12]}@example.com", uuid.uuid4().hex)
        for i in range(cfg.nonvoip_chats)
    ]
    for chat_id, email, password in chats:
        sim.add_account(email, password, balance=Decimal(per_chat) * 5 + 50)
        tg.register_chat(chat_id)
    db = await Database.open(db_path)
    credentials = CredentialStore(db, SecretBox([fernet_key]))
    orders = OrderStore(db)
    limit = asyncio.Semaphore(32)
    placed: list[NvOrder] = []
    try:
        for chat_id, email, password in chats:
            await credentials.save(chat_id, ProviderId.NONVOIP, {"email": email, "password": password})
        async with httpx.AsyncClient(timeout=30.0) as http:

            async def buy(index: int) -> None:
                chat_id, email, password = chats[index % cfg.nonvoip_chats]
                client = NonVoipClient(http, sim.base_url, email, password)
                async with limit:
                    remote = await client.order([NONVOIP_PRODUCT], section=NONVOIP_SECTION)
                if not isinstance(remote, RemoteOrder):
                    raise RuntimeError(f"NonVoipUsNumber order answered a decision: {remote!r}")
                await orders.add(chat_id, ProviderId.NONVOIP, remote, section=NONVOIP_SECTION)
                placed.append(NvOrder(remote.order_id, chat_id, email.lower()))

            await asyncio.gather(*(buy(i) for i in range(cfg.nonvoip_orders)))
    finally:
        await db.close()
    return placed


async def seed_gotsms(sim: GotSmsSimulator, tg: FakeTelegram, db_path: Path, fernet_key: str,
                      cfg: Config) -> list[GotRent]:
    """GotSMS accounts (one token per chat) and daily rents at the simulator (POST /api/rents through the
    project's GotSmsClient.create_rent), credentials {"token"} and orders (section "duration:day") in the DB."""
    if cfg.gotsms_rents == 0:
        return []
    per_chat = -(-cfg.gotsms_rents // cfg.gotsms_chats)
    plan_id = sim.plan_id(GOTSMS_SERVICE, GOTSMS_DURATION)
    price = next(Decimal(str(p["price"])) for p in sim.plans if p["id"] == plan_id)
    chats = [(FIRST_GOTSMS_CHAT_ID + i, f"gots_bench{i:05d}_{uuid.uuid4().hex}") for i in range(cfg.gotsms_chats)]
    for chat_id, token in chats:
        sim.add_account(token, balance=price * per_chat * 2 + 10)  # every rent affordable, with room
        tg.register_chat(chat_id)
    db = await Database.open(db_path)
    credentials = CredentialStore(db, SecretBox([fernet_key]))
    orders = OrderStore(db)
    limit = asyncio.Semaphore(32)
    placed: list[GotRent] = []
    try:
        for chat_id, token in chats:
            await credentials.save(chat_id, ProviderId.GOTSMS, {"token": token})
        async with httpx.AsyncClient(timeout=30.0) as http:

            async def buy(index: int) -> None:
                chat_id, token = chats[index % cfg.gotsms_chats]
                client = GotSmsClient(http, sim.base_url, token)
                async with limit:
                    remote = await client.create_rent(plan_id)
                await orders.add(chat_id, ProviderId.GOTSMS, remote, section=GOTSMS_SECTION)
                placed.append(GotRent(remote.order_id, chat_id, token))

            await asyncio.gather(*(buy(i) for i in range(cfg.gotsms_rents)))
    finally:
        await db.close()
    return placed


# ---------------------------------------------------------------------- the bot process


async def start_bot(tmp: Path, db_path: Path, fernet_key: str, sim: KiwiSimulator, nv_sim: NonVoipSimulator,
                    got_sim: GotSmsSimulator, tg: FakeTelegram,
                    cfg: Config) -> tuple[asyncio.subprocess.Process, Path]:
    env = {k: v for k, v in os.environ.items() if k not in BOT_ENV_VARS}
    env.update(
        TELEGRAM_BOT_TOKEN=tg.token,
        BOT_ENCRYPTION_KEY=fernet_key,
        DATABASE_PATH=str(db_path),
        TELEGRAM_API_BASE_URL=tg.base_url,
        KIWI_BASE_URL=sim.base_url,
        NONVOIP_BASE_URL=nv_sim.base_url,
        GOTSMS_BASE_URL=got_sim.base_url,
        POLL_INTERVAL_SECONDS=str(cfg.poll_interval),
        LOG_LEVEL="WARNING",
        # cwd is the temp dir (so no stray .env is loaded); the package comes from PYTHONPATH.
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )
    log_path = tmp / "bot.log"
    with open(log_path, "wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )
    return proc, log_path


async def wait_until_polling(sim: KiwiSimulator, proc: asyncio.subprocess.Process, timeout: float = 30.0) -> None:
    """The first GET /api/v1/rentals means the poller job is running."""
    deadline = time.monotonic() + timeout
    while sim.request_count("GET", LIST_PATH) == 0:
        if proc.returncode is not None:
            raise RuntimeError(f"bot exited with {proc.returncode} before polling")
        if time.monotonic() > deadline:
            raise RuntimeError(f"bot not polling after {timeout:.0f}s")
        await asyncio.sleep(0.02)


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


async def sample_rss(pid: int, peak: list[int], stop: asyncio.Event) -> None:
    """VmRSS once a second (the max is kept in peak[0]) until `stop` is set."""
    while not stop.is_set():
        kb = proc_status_kb(pid, "VmRSS")
        if kb is not None:
            peak[0] = max(peak[0], kb)
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            pass


async def stop_bot(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)  # run_polling shuts down gracefully on SIGTERM
        try:
            await asyncio.wait_for(proc.wait(), timeout=20.0)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode if proc.returncode is not None else -1


# ---------------------------------------------------------------------- the run


async def inject_sms(sim: KiwiSimulator, nv_sim: NonVoipSimulator, got_sim: GotSmsSimulator,
                     plan: list[tuple[float, Rental | NvOrder | GotRent, str]], t0: float) -> int:
    """Make each planned SMS visible at its moment (loop time t0 + offset); returns how many failed."""
    loop = asyncio.get_running_loop()
    failed = 0
    for offset, target, code in plan:
        delay = t0 + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # a timed schedule: there is no event to await
        try:
            if isinstance(target, NvOrder):
                nv_sim.receive_sms(target.order_id, f"Your Instagram verification code is {code}", pin=code)
            elif isinstance(target, GotRent):
                got_sim.receive_sms(target.rent_id, f"Your Telegram code is {code}", code=code)
            else:
                sim.receive_sms(target.rental_id, f"Your code is {code}", code=code)
        except ValueError as exc:
            failed += 1
            ident = getattr(target, "rental_id", None) or getattr(target, "order_id", None) or target.rent_id
            print(f"  ! SMS for {type(target).__name__} {ident}"
                  f" not injected: {exc}", file=sys.stderr)
    return failed


def sent_codes(tg: FakeTelegram, chat_ids: list[int]) -> dict[str, list[tuple[int, float]]]:
    """code -> [(chat_id, sent_at), ...] over every code message the fake received."""
    found: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for chat_id in chat_ids:
        for message in tg.sent(chat_id):
            match = _CODE_LINE.match(message.text)
            if match:
                found[match.group(1)].append((chat_id, message.sent_at))
    return found


async def drain(tg: FakeTelegram, chat_ids: list[int], codes: set[str], timeout: float) -> float:
    """Wait (bounded) until every injected code reached the fake; returns seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if codes <= sent_codes(tg, chat_ids).keys():
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - start


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class Delivered:
    latencies: list[float]  # ascending
    duplicates: dict[str, int]
    missing: list[str]
    misrouted: list[str]

    @property
    def exactly_once(self) -> bool:
        return not self.duplicates and not self.missing and not self.misrouted


def delivered(expected: dict[str, int], found: dict[str, list[tuple[int, float]]],
              visible_at: Callable[[str], float]) -> Delivered:
    """expected: code -> chat id; visible_at(code): time.time() the SMS became visible at the provider."""
    latencies: list[float] = []
    duplicates: dict[str, int] = {}
    misrouted: list[str] = []
    for code, chat_id in expected.items():
        sends = found.get(code, [])
        if not sends:
            continue
        if len(sends) > 1:
            duplicates[code] = len(sends)
        if any(chat != chat_id for chat, _ in sends):
            misrouted.append(code)
        latencies.append(min(at for _, at in sends) - visible_at(code))
    latencies.sort()
    return Delivered(latencies, duplicates, sorted(set(expected) - found.keys()), misrouted)


def latency_line(lat: list[float]) -> str:
    nan = float("nan")
    return (f"p50={percentile(lat, 50):.3f}  p90={percentile(lat, 90):.3f}  p99={percentile(lat, 99):.3f}  "
            f"max={lat[-1] if lat else nan:.3f}  min={lat[0] if lat else nan:.3f}")


def print_exactly_once(label: str, d: Delivered, total: int, unexpected: int | None = None) -> None:
    extra = f" unexpected={unexpected}" if unexpected is not None else ""
    print(f"{label:<21}duplicates={len(d.duplicates)} missing={len(d.missing)} "
          f"misrouted={len(d.misrouted)}{extra}   ({total - len(d.missing)}/{total} delivered)")
    if d.duplicates:
        print(f"  duplicated codes (code: sends): {dict(list(d.duplicates.items())[:20])}")
    if d.missing:
        print(f"  missing codes: {d.missing[:20]}{' ...' if len(d.missing) > 20 else ''}")
    if d.misrouted:
        print(f"  misrouted codes: {d.misrouted[:20]}")


def _got_route(method: str, path: str) -> str:
    """A request's route with the rent id replaced ("POST /api/rents/{id}/refund"), not one line per rent."""
    return f"{method} " + re.sub(r"^/api/(rents|numbers)/[^/]+(?=/)", r"/api/\1/{id}", path)


def max_in_window(times: list[float], window: float = RATE_WINDOW) -> int:
    """Most requests in any sliding window (t - window, t] (the simulator's own rule), times ascending."""
    best = lo = 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def run(cfg: Config) -> int:
    rng = random.Random(cfg.seed)
    sim = KiwiSimulator(rental_minutes=max(120.0, (cfg.duration + 600) / 60))  # nothing expires mid-run
    nv_sim = NonVoipSimulator(rate_limit_per_minute=NONVOIP_LIMIT_PER_MINUTE)
    # 10-minutes orders are Reserved for short_term_seconds (900 s): long enough for seeding + run?
    # Make sure: nothing may expire mid-run (an expired order cannot receive its SMS).
    nv_sim.short_term_seconds = max(3600, int(cfg.warmup + cfg.duration + cfg.drain + 1800))
    got_sim = GotSmsSimulator()
    tg = FakeTelegram()
    await sim.start()
    await nv_sim.start()
    await got_sim.start()
    await tg.start()
    try:
        with tempfile.TemporaryDirectory(prefix="otp-bench-") as tmp_name:
            tmp = Path(tmp_name)
            db_path = tmp / "bot.sqlite3"
            fernet_key = Fernet.generate_key().decode()
            t_seed = time.monotonic()
            rentals = await seed(sim, tg, db_path, fernet_key, cfg)
            kiwi_chat_ids = sorted({r.chat_id for r in rentals})
            keys = sorted({r.api_key for r in rentals})
            print(f"seeded {len(rentals)} kiwiSMS rentals over {len(kiwi_chat_ids)} chats/accounts "
                  f"in {time.monotonic() - t_seed:.1f}s")
            t_seed = time.monotonic()
            nv_orders = await seed_nonvoip(nv_sim, tg, db_path, fernet_key, cfg)
            nv_chat_ids = sorted({o.chat_id for o in nv_orders})
            nv_emails = sorted({o.email for o in nv_orders})
            print(f"seeded {len(nv_orders)} NonVoipUsNumber {NONVOIP_SECTION} orders over {len(nv_chat_ids)} "
                  f"chats/accounts in {time.monotonic() - t_seed:.1f}s "
                  f"(short-term window {nv_sim.short_term_seconds} s)")
            t_seed = time.monotonic()
            got_rents = await seed_gotsms(got_sim, tg, db_path, fernet_key, cfg)
            got_chat_ids = sorted({g.chat_id for g in got_rents})
            got_tokens = sorted({g.token for g in got_rents})
            print(f"seeded {len(got_rents)} GotSMS {GOTSMS_SERVICE}/{GOTSMS_DURATION} rents over "
                  f"{len(got_chat_ids)} chats/accounts in {time.monotonic() - t_seed:.1f}s")
            chat_ids = kiwi_chat_ids + nv_chat_ids + got_chat_ids

            first_bot_request = len(sim.requests)
            first_nv_bot_request = len(nv_sim.requests)
            first_got_bot_request = len(got_sim.requests)
            proc, log_path = await start_bot(tmp, db_path, fernet_key, sim, nv_sim, got_sim, tg, cfg)
            peak_rss = [0]
            stop_sampling = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(proc.pid, peak_rss, stop_sampling))
            vm_hwm_kb: int | None = None
            try:
                t_start = time.monotonic()
                await wait_until_polling(sim, proc)
                print(f"bot pid {proc.pid} polling after {time.monotonic() - t_start:.2f}s")

                codes = rng.sample(range(100_000, 1_000_000), len(rentals))
                plan: list[tuple[float, Rental | NvOrder | GotRent, str]] = [
                    (rng.uniform(0, cfg.duration), r, f"{c:06d}") for r, c in zip(rentals, codes)
                ]
                taken = set(codes)  # NonVoip codes: drawn after kiwi's (same kiwi plan per seed), all distinct
                for order in nv_orders:
                    code = rng.randrange(100_000, 1_000_000)
                    while code in taken:
                        code = rng.randrange(100_000, 1_000_000)
                    taken.add(code)
                    plan.append((rng.uniform(0, cfg.duration), order, f"{code:06d}"))
                for rent in got_rents:  # GotSMS codes drawn last: kiwi and NonVoip plans unchanged per seed
                    code = rng.randrange(100_000, 1_000_000)
                    while code in taken:
                        code = rng.randrange(100_000, 1_000_000)
                    taken.add(code)
                    plan.append((rng.uniform(0, cfg.duration), rent, f"{code:06d}"))
                plan.sort(key=lambda item: item[0])
                expected = {code: r for _, r, code in plan if isinstance(r, Rental)}
                nv_expected = {code: o for _, o, code in plan if isinstance(o, NvOrder)}
                got_expected = {code: g for _, g, code in plan if isinstance(g, GotRent)}
                loop = asyncio.get_running_loop()
                t0 = loop.time() + cfg.warmup
                window_start = time.monotonic() + cfg.warmup
                # CPU over the whole SMS phase, to see which process (bot or this one) is busy.
                cpu_bot_0, cpu_self_0 = proc_cpu_seconds(proc.pid), self_cpu_seconds()
                failed = await inject_sms(sim, nv_sim, got_sim, plan, t0)
                window_end = time.monotonic()
                cpu_bot_1, cpu_self_1 = proc_cpu_seconds(proc.pid), self_cpu_seconds()
                waited = await drain(tg, chat_ids, set(expected) | set(nv_expected) | set(got_expected), cfg.drain)
                await asyncio.sleep(cfg.poll_interval * 2)  # a late duplicate would show up here
                vm_hwm_kb = proc_status_kb(proc.pid, "VmHWM")
            finally:
                stop_sampling.set()
                await sampler
                rc = await stop_bot(proc)
            bot_end = time.monotonic()
            bot_log = log_path.read_text(errors="replace")
    finally:
        await tg.stop()
        await got_sim.stop()
        await nv_sim.stop()
        await sim.stop()

    # -------------------------------------------------------------- figures
    found = sent_codes(tg, chat_ids)
    kiwi = delivered({c: r.chat_id for c, r in expected.items()}, found,
                     lambda c: sim.rental(expected[c].rental_id).code_times[0])
    nv = delivered({c: o.chat_id for c, o in nv_expected.items()}, found,
                   lambda c: nv_sim.order(nv_expected[c].order_id).sms_times[0])
    got = delivered({c: g.chat_id for c, g in got_expected.items()}, found,
                    lambda c: got_sim.rent(got_expected[c].rent_id).message_times[0])
    latencies, missing = kiwi.latencies, kiwi.missing
    unexpected = sorted(found.keys() - set(expected) - set(nv_expected) - set(got_expected))

    bot_requests = sim.requests[first_bot_request:]
    by_path = Counter(
        f"{r.method} {re.sub(r'^/api/v1/rentals/[^/]+', '/api/v1/rentals/{id}', r.path)}" for r in bot_requests
    )
    in_window = [r for r in bot_requests
                 if r.method == "GET" and r.path == LIST_PATH and window_start <= r.at <= window_end]
    intervals = (window_end - window_start) / cfg.poll_interval
    per_key = Counter(r.api_key for r in in_window)
    per_tick = [per_key.get(k, 0) / intervals for k in keys]
    per_rental_gets = sum(1 for r in bot_requests if r.method == "GET" and r.path.startswith(LIST_PATH + "/"))
    # Per account: time between consecutive list requests (~1 interval each; ~2 = a skipped tick).
    by_key: dict[str | None, list[float]] = defaultdict(list)
    for r in in_window:
        by_key[r.api_key].append(r.at)
    gaps = sorted(b - a for times in by_key.values() for a, b in zip(times, times[1:]))
    skipped = sum(1 for g in gaps if g > 1.5 * cfg.poll_interval)

    # NonVoipUsNumber: what the bot asked per account, and what the simulator's limiter counted.
    nv_bot_requests = nv_sim.requests[first_nv_bot_request:]
    nv_by_path = Counter(r.path for r in nv_bot_requests)
    nv_status = Counter((r.path, r.status) for r in nv_sim.requests)
    nv_429 = sum(1 for r in nv_sim.requests if r.status == 429)
    getsms_times: dict[str, list[float]] = defaultdict(list)
    counted_times: dict[str, list[float]] = defaultdict(list)  # every request the limiter counted (seed too)
    getsms_order_times: dict[str, list[float]] = defaultdict(list)
    for r in nv_sim.requests:
        email = (r.email or "").lower()
        if r.status != 429:
            counted_times[email].append(r.at)
    for r in nv_bot_requests:
        if r.path == NONVOIP_GETSMS:
            getsms_times[(r.email or "").lower()].append(r.at)
            if r.json is not None:
                getsms_order_times[str(r.json.get("order_id"))].append(r.at)
    nv_span = (bot_end - nv_bot_requests[0].at) if nv_bot_requests else float("nan")
    nv_rows = []
    for email in nv_emails:
        times = getsms_times.get(email, [])
        nv_rows.append((
            email, len(times), max_in_window(times),
            len(times) / (nv_span / 60) if nv_span > 0 else float("nan"),
            max_in_window(counted_times.get(email, [])),
            sum(1 for r in nv_sim.requests if r.status == 429 and (r.email or "").lower() == email),
        ))
    nv_max_window = max((row[2] for row in nv_rows), default=0)
    nv_max_counted = max((row[4] for row in nv_rows), default=0)
    nv_gaps = sorted(b - a for times in getsms_order_times.values() for a, b in zip(times, times[1:]))

    # GotSMS: unread GETs per account per tick in the SMS phase, and whatever else the bot asked.
    got_bot_requests = got_sim.requests[first_got_bot_request:]
    got_by_path = Counter(
        _got_route(r.method, r.path) for r in got_bot_requests
    )
    got_phase = [r for r in got_bot_requests if window_start <= r.at <= window_end]
    got_unread = [r for r in got_phase if r.method == "GET" and r.path == GOTSMS_UNREAD]
    got_other = [r for r in got_phase if not (r.method == "GET" and r.path == GOTSMS_UNREAD)]
    got_other_by_path = Counter(
        _got_route(r.method, r.path) for r in got_other
    )
    got_unread_queries = Counter(
        "&".join(f"{k}={v}" for k, v in sorted(r.query.items())) for r in got_unread
    )
    got_per_token = Counter(r.token for r in got_unread)
    got_per_tick = [got_per_token.get(t, 0) / intervals for t in got_tokens]
    got_times: dict[str | None, list[float]] = defaultdict(list)
    for r in got_unread:
        got_times[r.token].append(r.at)
    got_gaps = sorted(b - a for times in got_times.values() for a, b in zip(times, times[1:]))
    got_skipped = sum(1 for g in got_gaps if g > 1.5 * cfg.poll_interval)

    rss_peak_mb = peak_rss[0] / 1024
    hwm_mb = vm_hwm_kb / 1024 if vm_hwm_kb is not None else float("nan")
    rss_mb = max(rss_peak_mb, hwm_mb if vm_hwm_kb is not None else 0.0)

    print()
    print(f"== delivery benchmark: N={cfg.rentals} kiwiSMS rentals, M={cfg.chats} chats; "
          f"{cfg.nonvoip_orders} NonVoipUsNumber orders, {cfg.nonvoip_chats} chats; "
          f"{cfg.gotsms_rents} GotSMS rents, {cfg.gotsms_chats} chats; "
          f"POLL_INTERVAL_SECONDS={cfg.poll_interval:g}, SMS over {cfg.duration:g}s (+{cfg.warmup:g}s warm-up)")
    print(f"codes delivered      kiwi {len(found.keys() & set(expected))} / {len(expected)}, "
          f"NonVoip {len(found.keys() & set(nv_expected))} / {len(nv_expected)}, "
          f"GotSMS {len(found.keys() & set(got_expected))} / {len(got_expected)}"
          f"   (drain waited {waited:.1f}s; SMS not injected: {failed})")
    print_exactly_once("kiwi exactly once", kiwi, len(expected), unexpected=len(unexpected))
    if nv_expected:
        print_exactly_once("NonVoip exactly once", nv, len(nv_expected))
    if got_expected:
        print_exactly_once("GotSMS exactly once", got, len(got_expected))
    print(f"kiwi latency (s)     {latency_line(latencies)}")
    if nv_expected:
        print(f"NonVoip latency (s)  {latency_line(nv.latencies)}")
        per_account = -(-len(nv_expected) // max(1, len(nv_emails)))
        print(f"  (bounded by the per-account budget: {per_account} orders/account at "
              f"{NONVOIP_BUDGET_PER_MINUTE:.0f} req/min = {NONVOIP_BUDGET_PER_MINUTE / 60:.1f}/s -> each order "
              f"checked about every {per_account / (NONVOIP_BUDGET_PER_MINUTE / 60):.2f}s; measured getsms gap "
              f"per order p50={percentile(nv_gaps, 50):.3f}s p99={percentile(nv_gaps, 99):.3f}s "
              f"max={nv_gaps[-1] if nv_gaps else float('nan'):.3f}s)")
    if got_expected:
        print(f"GotSMS latency (s)   {latency_line(got.latencies)}")
    print(f"list GETs/acct/tick  mean={sum(per_tick) / len(per_tick):.3f}  max={max(per_tick):.3f}  "
          f"min={min(per_tick):.3f}   ({len(in_window)} list GETs in {window_end - window_start:.1f}s "
          f"= {intervals:.1f} intervals, {len(keys)} accounts)")
    print(f"poll regularity      gap between an account's list GETs p50={percentile(gaps, 50):.3f}s "
          f"p99={percentile(gaps, 99):.3f}s max={gaps[-1] if gaps else float('nan'):.3f}s; "
          f"gaps > 1.5 intervals (skipped ticks): {skipped}")
    print(f"per-rental GETs      {per_rental_gets}")
    print("provider requests    kiwi " + ", ".join(f"{path}: {n}" for path, n in by_path.most_common()))
    if nv_expected:
        print("                     NonVoip (bot) " + ", ".join(f"{p}: {n}" for p, n in nv_by_path.most_common())
              + "; answers (all, seeding too) "
              + ", ".join(f"{p} {st}: {n}" for (p, st), n in sorted(nv_status.items())))
        print(f"NonVoip per account  getsms/min: 'max/60s' = most getsms in any sliding 60 s window (the "
              f"simulator's rule); 'mean' = total / {nv_span / 60:.2f} min of bot polling; "
              f"'counted/60s' = every request the limiter counted for the account (incl. the seeding orders)")
        print(f"  {'account':<40} {'getsms':>7} {'max/60s':>8} {'mean/min':>9} {'counted/60s':>12} {'429s':>5}")
        for email, total, window, mean, counted, n429 in nv_rows:
            print(f"  {email:<40} {total:7d} {window:8d} {mean:9.1f} {counted:12d} {n429:5d}")
        print(f"  max across accounts: getsms {nv_max_window}/60s, counted {nv_max_counted}/60s "
              f"(limit {NONVOIP_LIMIT_PER_MINUTE}/min, bot budget {NONVOIP_BUDGET_PER_MINUTE:.0f}/min); "
              f"429 answers: {nv_429}")
    if got_expected:
        print(f"GotSMS unread GETs/acct/tick mean={sum(got_per_tick) / len(got_per_tick):.3f}  "
              f"max={max(got_per_tick):.3f}  min={min(got_per_tick):.3f}   ({len(got_unread)} unread GETs in "
              f"{window_end - window_start:.1f}s = {intervals:.1f} intervals, {len(got_tokens)} accounts, "
              f"{len(got_expected)} rents); queries: "
              + ", ".join(f"{q}: {n}" for q, n in got_unread_queries.most_common()))
        print(f"GotSMS poll regularity gap between an account's unread GETs p50={percentile(got_gaps, 50):.3f}s "
              f"p99={percentile(got_gaps, 99):.3f}s max={got_gaps[-1] if got_gaps else float('nan'):.3f}s; "
              f"gaps > 1.5 intervals (skipped ticks): {got_skipped}")
        print(f"GotSMS other requests during the SMS phase: {len(got_other)}"
              + (" (" + ", ".join(f"{p}: {n}" for p, n in got_other_by_path.most_common()) + ")" if got_other else ""))
        print("                     GotSMS (bot, whole run) "
              + ", ".join(f"{p}: {n}" for p, n in got_by_path.most_common()))
    tg_calls = Counter(c.method for c in tg.calls())
    print("telegram calls       " + ", ".join(f"{m}: {n}" for m, n in tg_calls.most_common()))
    print(f"bot peak RSS         VmHWM={hwm_mb:.1f} MB  max sampled VmRSS={rss_peak_mb:.1f} MB")
    span = window_end - window_start + cfg.warmup
    if cpu_bot_0 is not None and cpu_bot_1 is not None:
        print(f"CPU during SMS phase bot {cpu_bot_1 - cpu_bot_0:.1f}s ({(cpu_bot_1 - cpu_bot_0) / span:.0%} of a core), "
              f"benchmark process (simulator + fake Telegram) {cpu_self_1 - cpu_self_0:.1f}s "
              f"({(cpu_self_1 - cpu_self_0) / span:.0%}) over {span:.1f}s")
    print(f"bot exit code        {rc}")
    problems = [line for line in bot_log.splitlines() if line.strip()]
    if problems:
        print(f"bot log ({len(problems)} lines at WARNING+; last 10):")
        for line in problems[-10:]:
            print("  " + line[:300])

    list_ok = bool(per_tick) and max(per_tick) <= TARGET_LIST_PER_TICK * 1.05 and per_rental_gets == 0
    once_ok = kiwi.exactly_once
    print()
    print("target                                   figure        result")
    print(f"p50 latency <= {TARGET_P50} s                  {percentile(latencies, 50):8.3f} s    "
          f"{verdict(percentile(latencies, 50) <= TARGET_P50)}")
    print(f"p99 latency <= {TARGET_P99} s                   {percentile(latencies, 99):8.3f} s    "
          f"{verdict(percentile(latencies, 99) <= TARGET_P99)}")
    print(f"1 list GET per account per tick          {max(per_tick):8.3f}      "
          f"{verdict(list_ok)}  (max per account; per-rental GETs {per_rental_gets})")
    print(f"peak RSS <= {TARGET_RSS_MB:.0f} MB                      {rss_mb:8.1f} MB   "
          f"{verdict(rss_mb <= TARGET_RSS_MB)}")
    print(f"every kiwi code exactly once             {len(expected) - len(missing)}/{len(expected)}     "
          f"{verdict(once_ok)}")
    if nv_expected:
        print(f"NonVoip req/min/account <= {NONVOIP_LIMIT_PER_MINUTE}         {nv_max_counted:8d}      "
              f"{verdict(nv_max_counted <= NONVOIP_LIMIT_PER_MINUTE)}  (max over accounts and sliding 60 s "
              f"windows, all counted requests; getsms alone {nv_max_window})")
        print(f"NonVoip 429s == 0                        {nv_429:8d}      {verdict(nv_429 == 0)}")
        print(f"every NonVoip code exactly once          {len(nv_expected) - len(nv.missing)}/{len(nv_expected)}"
              f"       {verdict(nv.exactly_once)}")
        print(f"NonVoip latency (no target; budget-bound) p50={percentile(nv.latencies, 50):.3f} s  "
              f"p99={percentile(nv.latencies, 99):.3f} s")
    if got_expected:
        unread_ok = bool(got_per_tick) and max(got_per_tick) <= TARGET_UNREAD_PER_TICK * 1.05 and not got_other
        print(f"1 unread GET per account per tick        {max(got_per_tick):8.3f}      "
              f"{verdict(unread_ok)}  (GotSMS, max per account; mean {sum(got_per_tick) / len(got_per_tick):.3f}, "
              f"skipped ticks {got_skipped}; other GotSMS requests {len(got_other)})")
        print(f"GotSMS other requests == 0               {len(got_other):8d}      {verdict(not got_other)}")
        print(f"every GotSMS code exactly once           {len(got_expected) - len(got.missing)}/{len(got_expected)}"
              f"       {verdict(got.exactly_once)}")
        print(f"GotSMS latency (no target)               p50={percentile(got.latencies, 50):.3f} s  "
              f"p90={percentile(got.latencies, 90):.3f} s  p99={percentile(got.latencies, 99):.3f} s  "
              f"max={got.latencies[-1] if got.latencies else float('nan'):.3f} s")
    if (cfg.rentals, cfg.chats, cfg.poll_interval) != (1000, 100, 1.0):
        print("(kiwi targets are stated for N=1000, M=100, POLL_INTERVAL_SECONDS=1)")
    return 0


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    raise SystemExit(asyncio.run(run(cfg)))


if __name__ == "__main__":
    main()
