"""GotSMS daily Telegram/USA rents: the bot polls each account with ONE
`GET /api/messages/unread?mark_as_read=1` per tick whatever the number of rents, and nothing else
during the SMS phase. Latency is reported without a target."""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable
from decimal import Decimal

from bench.accounting import Delivered
from bench.config import Config, ScenarioSize
from bench.scenarios.base import Account, Figures, Phase, Scenario, TargetRow
from bench.stats import NAN, cadence, cadence_lines, percentile, route_counts, times_by
from providers.gotsms.simulator.models import RecordedRequest
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.models import OrderRequest, ProviderId

SERVICE, DURATION = "Telegram", "day"  # the 1-day plan: nothing expires mid-run
BILLING = "duration"  # the client's section: the plan's billing type
UNREAD = "/api/messages/unread"
TARGET_UNREAD_PER_TICK = 1.0
TARGET_P50 = 0.55  # s, as kiwiSMS's (stated for the default mix at POLL_INTERVAL_SECONDS=1)
TARGET_P99 = 1.5


def _route(r: RecordedRequest) -> str:
    """ "POST /api/rents/{id}/refund": one line per route, not per rent."""
    return f"{r.method} " + re.sub(r"^/api/(rents|numbers)/[^/]+(?=/)", r"/api/\1/{id}", r.path)


def _is_unread(r: RecordedRequest) -> bool:
    return r.method == "GET" and r.path == UNREAD


class GotSmsScenario(Scenario[GotSmsSimulator]):
    provider = ProviderId.GOTSMS
    label = "GotSMS"
    env_var = "GOTSMS_BASE_URL"
    first_chat_id = 7_000_001
    stored_section = f"{BILLING}:{DURATION}"  # Plan.kind, what the bot stores for a daily rent

    def __init__(self, size: ScenarioSize, cfg: Config) -> None:
        super().__init__(size, cfg)
        self.plan_id: str = self.sim.plan_id(SERVICE, DURATION)
        self.price = next(Decimal(str(p["price"])) for p in self.sim.plans if p["id"] == self.plan_id)

    def make_simulator(self, cfg: Config) -> GotSmsSimulator:
        return GotSmsSimulator()  # daily rents: nothing expires within a run

    @property
    def what(self) -> str:
        return f"GotSMS {SERVICE}/{DURATION} rents"

    def open_account(self, index: int, orders_per_account: int) -> Account:
        token = f"gots_bench{index:05d}_{uuid.uuid4().hex}"
        self.sim.add_account(token, balance=self.price * orders_per_account * 2 + 10)  # every rent affordable
        return Account(self.first_chat_id + index, token, {"token": token})

    def order_request(self) -> OrderRequest:
        return OrderRequest(section=BILLING, service_ids=(self.sim.service_id(SERVICE),), plan_id=self.plan_id)

    def receive_sms(self, remote_id: str, code: str) -> None:
        self.sim.receive_sms(remote_id, f"Your Telegram code is {code}", code=code)

    def visible_at(self, remote_id: str) -> float:
        return float(self.sim.rent(remote_id).message_times[0])

    def poll_count(self) -> int:
        return int(self.sim.request_count("GET", UNREAD))

    def poll_times(self, start: float, end: float) -> dict[Hashable, list[float]]:
        requests: list[RecordedRequest] = self.bot_requests()
        unread = [r for r in requests if _is_unread(r) and start <= r.at <= end]
        return times_by(unread, lambda r: r.token, lambda r: r.at)

    def figures(self, phase: Phase, delivered: Delivered) -> Figures:
        bot_requests: list[RecordedRequest] = self.bot_requests()
        in_phase = [r for r in bot_requests if phase.start <= r.at <= phase.end]
        unread = [r for r in in_phase if _is_unread(r)]
        other = [r for r in in_phase if not _is_unread(r)]
        polls = cadence(self.poll_times(phase.start, phase.end), self.account_keys, phase.intervals,
                        phase.poll_interval)
        queries = route_counts(unread, lambda r: "&".join(f"{k}={v}" for k, v in sorted(r.query.items())))
        lat = delivered.latencies
        return Figures(details=[
            *cadence_lines(polls, label="GotSMS", noun="unread GETs", seconds=phase.seconds,
                           intervals=phase.intervals, accounts=len(self.account_keys),
                           context=f", {delivered.expected} rents; queries: {queries}"),
            f"GotSMS other requests during the SMS phase: {len(other)}"
            + (f" ({route_counts(other, _route)})" if other else ""),
            "                     GotSMS (bot, whole run) " + route_counts(bot_requests, _route),
        ], targets=[
            TargetRow("1 unread GET per account per tick", f"{polls.max:.3f}",
                      polls.within(TARGET_UNREAD_PER_TICK) and not other,
                      f"(max per account; mean {polls.mean:.3f}, skipped ticks {polls.skipped}; "
                      f"other GotSMS requests {len(other)})"),
            TargetRow("GotSMS other requests == 0", f"{len(other):d}", not other),
            TargetRow(f"GotSMS p50 latency <= {TARGET_P50} s", f"{percentile(lat, 50):.3f} s",
                      percentile(lat, 50) <= TARGET_P50),
            TargetRow(f"GotSMS p99 latency <= {TARGET_P99} s", f"{percentile(lat, 99):.3f} s",
                      percentile(lat, 99) <= TARGET_P99,
                      f"(p90={percentile(lat, 90):.3f} s, max={lat[-1] if lat else NAN:.3f} s)"),
        ])
