"""NonVoipUsNumber 10-minutes orders: no "list my orders" endpoint, so the bot polls each order with
getsms within a per-account budget of 90% of the documented 500 requests/min; latency is bounded by
that budget (reported, no target). The figures check the limit and count the simulator's 429s."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal

from bench.accounting import Delivered
from bench.config import Config
from bench.scenarios.base import Account, Figures, Phase, Scenario, TargetRow
from bench.stats import consecutive_gaps, gap_line, max_in_window, percentile, route_counts, times_by
from providers.models import OrderRequest, ProviderId
from providers.nonvoip.simulator.models import RecordedRequest
from providers.nonvoip.simulator.sim import NonVoipSimulator

SECTION = "10-minutes"
PRODUCT = "10000086"  # Instagram, 10-minutes (docs/nonvoip.md catalogue)
GETSMS = "/api/getsms"
LIMIT_PER_MINUTE = 500  # the simulator's documented per-account limit (= NonVoipClient.requests_per_minute)
BUDGET_PER_MINUTE = 0.9 * LIMIT_PER_MINUTE  # what the bot's poller budgets per account
RATE_WINDOW = 60.0  # the simulator's sliding window
PERIOD_SLACK = 0.5  # s: the latency target is the budget's polling period plus this


def _email(r: RecordedRequest) -> str:
    return (r.email or "").lower()


class NonVoipScenario(Scenario[NonVoipSimulator]):
    provider = ProviderId.NONVOIP
    label = "NonVoip"
    env_var = "NONVOIP_BASE_URL"
    first_chat_id = 6_000_001
    stored_section = SECTION

    def make_simulator(self, cfg: Config) -> NonVoipSimulator:
        sim = NonVoipSimulator(rate_limit_per_minute=LIMIT_PER_MINUTE)
        # A 10-minutes order is Reserved for short_term_seconds; an expired one cannot receive its SMS.
        sim.short_term_seconds = max(3600, int(cfg.warmup + cfg.duration + cfg.drain + 1800))
        return sim

    @property
    def what(self) -> str:
        return f"NonVoipUsNumber {SECTION} orders"

    def seed_note(self) -> str:
        return f"(short-term window {self.sim.short_term_seconds} s)"

    def prepare(self) -> None:
        self.sim.set_stock(PRODUCT, self.size.orders + 100)  # never sold out mid-seed

    def open_account(self, index: int, orders_per_account: int) -> Account:
        email, password = f"bench{index:05d}-{uuid.uuid4().hex[:12]}@example.com", uuid.uuid4().hex
        self.sim.add_account(email, password, balance=Decimal(orders_per_account) * 5 + 50)
        # The simulator's rate-limit bucket and RecordedRequest.email are lower-cased.
        return Account(self.first_chat_id + index, email.lower(), {"email": email, "password": password})

    def order_request(self) -> OrderRequest:
        return OrderRequest(section=SECTION, service_ids=(PRODUCT,))

    def receive_sms(self, remote_id: str, code: str) -> None:
        self.sim.receive_sms(remote_id, f"Your Instagram verification code is {code}", pin=code)

    def visible_at(self, remote_id: str) -> float:
        return float(self.sim.order(remote_id).sms_times[0])

    def poll_count(self) -> int:
        return int(self.sim.request_count(GETSMS))

    def figures(self, phase: Phase, delivered: Delivered) -> Figures:
        everything: list[RecordedRequest] = list(self.sim.requests)
        bot_requests: list[RecordedRequest] = self.bot_requests()
        getsms = [r for r in bot_requests if r.path == GETSMS]
        getsms_times = times_by(getsms, _email, lambda r: r.at)
        # Every request the limiter counted for an account, the seeding orders too.
        counted_times = times_by((r for r in everything if r.status != 429), _email, lambda r: r.at)
        too_many = Counter(_email(r) for r in everything if r.status == 429)
        order_gaps = consecutive_gaps(times_by(
            (r for r in getsms if r.json), lambda r: str((r.json or {}).get("order_id")), lambda r: r.at))
        span = (phase.bot_end - bot_requests[0].at) if bot_requests else float("nan")
        rows = []
        for email in self.account_keys:
            times = getsms_times.get(email, [])
            rows.append((email, len(times), max_in_window(times, RATE_WINDOW),
                         len(times) / (span / 60) if span > 0 else float("nan"),
                         max_in_window(counted_times.get(email, []), RATE_WINDOW), too_many.get(email, 0)))
        max_getsms = max((row[2] for row in rows), default=0)
        max_counted = max((row[4] for row in rows), default=0)
        total_429 = sum(too_many.values())
        answers = Counter((r.path, r.status) for r in everything)
        per_account = -(-delivered.expected // max(1, len(self.account_keys)))
        lat = delivered.latencies
        period = max(phase.poll_interval, per_account / (BUDGET_PER_MINUTE / 60))
        details = [
            "                     NonVoip (bot) " + route_counts(bot_requests, lambda r: r.path)
            + "; answers (all, seeding too) " + ", ".join(f"{p} {st}: {n}" for (p, st), n in sorted(answers.items())),
            f"NonVoip per account  getsms/min: 'max/60s' = most getsms in any sliding 60 s window (the "
            f"simulator's rule); 'mean' = total / {span / 60:.2f} min of bot polling; "
            f"'counted/60s' = every request the limiter counted for the account (incl. the seeding orders)",
            f"  {'account':<40} {'getsms':>7} {'max/60s':>8} {'mean/min':>9} {'counted/60s':>12} {'429s':>5}",
            *(f"  {email:<40} {total:7d} {window:8d} {mean:9.1f} {counted:12d} {n429:5d}"
              for email, total, window, mean, counted, n429 in rows),
            f"  max across accounts: getsms {max_getsms}/60s, counted {max_counted}/60s "
            f"(limit {LIMIT_PER_MINUTE}/min, bot budget {BUDGET_PER_MINUTE:.0f}/min); 429 answers: {total_429}",
        ]
        return Figures(latency_notes=[
            f"  (bounded by the per-account budget: {per_account} orders/account at {BUDGET_PER_MINUTE:.0f} "
            f"req/min = {BUDGET_PER_MINUTE / 60:.1f}/s -> each order checked about every "
            f"{per_account / (BUDGET_PER_MINUTE / 60):.2f}s; measured getsms gap per order {gap_line(order_gaps)})",
        ], details=details, targets=[
            TargetRow(f"NonVoip req/min/account <= {LIMIT_PER_MINUTE}", f"{max_counted:d}",
                      max_counted <= LIMIT_PER_MINUTE,
                      f"(max over accounts and sliding 60 s windows, all counted requests; getsms alone {max_getsms})"),
            TargetRow("NonVoip 429s == 0", f"{total_429:d}", total_429 == 0),
            TargetRow("NonVoip latency p50 / p99 (budget-bound)",
                      f"{percentile(lat, 50):.3f} / {percentile(lat, 99):.3f} s", None),
            TargetRow(f"NonVoip p99 <= period + {PERIOD_SLACK} s", f"{percentile(lat, 99):.3f} s",
                      percentile(lat, 99) <= period + PERIOD_SLACK,
                      f"(period {period:.2f} s: each of {per_account} orders polled every n / "
                      f"{BUDGET_PER_MINUTE / 60:.1f} s, at least every poll interval)"),
        ])
