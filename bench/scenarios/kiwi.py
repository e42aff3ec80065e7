"""kiwiSMS rentals: one `GET /api/v1/rentals` per account per tick lists every rental's codes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable
from decimal import Decimal

from bench.accounting import Delivered
from bench.config import Config
from bench.scenarios.base import Account, Figures, Phase, Scenario, TargetRow
from bench.stats import cadence, cadence_lines, percentile, route_counts, times_by
from providers.kiwi.simulator.models import RecordedRequest
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import OrderRequest, ProviderId

LIST_PATH = "/api/v1/rentals"
COUNTRY, SERVICE = "187", "wa"  # WhatsApp in the USA
MAX_PRICE = Decimal("1000")
# Targets (stated for N=1000, M=100, POLL_INTERVAL_SECONDS=1).
TARGET_P50 = 0.55
TARGET_P99 = 1.5
TARGET_LIST_PER_TICK = 1.0
STATED_FOR = (1000, 100, 1.0)


def _route(r: RecordedRequest) -> str:
    """One line per route, not per rental."""
    return f"{r.method} {re.sub(r'^/api/v1/rentals/[^/]+', '/api/v1/rentals/{id}', r.path)}"


class KiwiScenario(Scenario[KiwiSimulator]):
    provider = ProviderId.KIWI
    label = "kiwi"
    env_var = "KIWI_BASE_URL"
    first_chat_id = 5_000_001
    stored_section = COUNTRY  # the bot stores a kiwiSMS order under its country

    def make_simulator(self, cfg: Config) -> KiwiSimulator:
        return KiwiSimulator(rental_minutes=max(120.0, (cfg.duration + 600) / 60))

    @property
    def what(self) -> str:
        return "kiwiSMS rentals"

    def prepare(self) -> None:
        self.sim.set_stock(COUNTRY, SERVICE, self.size.orders + 100)  # never sold out mid-seed

    def open_account(self, index: int, orders_per_account: int) -> Account:
        key = f"lsms_bench{index:05d}_{uuid.uuid4().hex[:16]}"
        self.sim.add_account(key, balance=Decimal(orders_per_account) * 2 + 10)
        return Account(self.first_chat_id + index, key, {"api_key": key})

    def order_request(self) -> OrderRequest:
        return OrderRequest(section=COUNTRY, service_ids=(SERVICE,), max_price=MAX_PRICE)

    def receive_sms(self, remote_id: str, code: str) -> None:
        self.sim.receive_sms(remote_id, f"Your code is {code}", code=code)

    def visible_at(self, remote_id: str) -> float:
        return float(self.sim.rental(remote_id).code_times[0])

    def poll_count(self) -> int:
        return int(self.sim.request_count("GET", LIST_PATH))

    def poll_times(self, start: float, end: float) -> dict[Hashable, list[float]]:
        requests: list[RecordedRequest] = self.bot_requests()
        listed = [r for r in requests if r.method == "GET" and r.path == LIST_PATH and start <= r.at <= end]
        return times_by(listed, lambda r: r.api_key, lambda r: r.at)

    def figures(self, phase: Phase, delivered: Delivered) -> Figures:
        bot_requests: list[RecordedRequest] = self.bot_requests()
        polls = cadence(self.poll_times(phase.start, phase.end), self.account_keys, phase.intervals,
                        phase.poll_interval)
        per_rental_gets = sum(1 for r in bot_requests if r.method == "GET" and r.path.startswith(LIST_PATH + "/"))
        lat = delivered.latencies
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        figures = Figures(details=[
            *cadence_lines(polls, label="kiwi", noun="list GETs", seconds=phase.seconds, intervals=phase.intervals,
                           accounts=len(self.account_keys)),
            f"per-rental GETs      {per_rental_gets}",
            "provider requests    kiwi " + route_counts(bot_requests, _route),
        ], targets=[
            TargetRow(f"p50 latency <= {TARGET_P50} s", f"{p50:.3f} s", p50 <= TARGET_P50),
            TargetRow(f"p99 latency <= {TARGET_P99} s", f"{p99:.3f} s", p99 <= TARGET_P99),
            TargetRow("1 list GET per account per tick", f"{polls.max:.3f}",
                      polls.within(TARGET_LIST_PER_TICK) and per_rental_gets == 0,
                      f"(max per account; per-rental GETs {per_rental_gets})"),
        ])
        if (self.size.orders, self.size.chats, phase.poll_interval) != STATED_FOR:
            figures.footnotes.append("(kiwi targets are stated for N=1000, M=100, POLL_INTERVAL_SECONDS=1)")
        return figures
