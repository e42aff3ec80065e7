"""What `GET /metrics` reports (Prometheus, through `prometheus-client`): defined once, here.

They live in `handlers/` because the code that observes them does (delivery of codes, the
update path); `providers/http.py` counts provider requests in `providers/metrics.py`. Both
register in prometheus-client's default registry, which `/metrics` exposes.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Code latency: from the moment the bot stored the SMS (a callback's arrival, a poll's answer) to
# Telegram accepting its message. Buckets around the targets (50 ms callbacks, 0.55 s polls).
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)
TAP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)

CODES_DELIVERED = Counter(
    "otpbot_codes_delivered", "Codes (SMS) sent to a chat", ["provider", "path"]
)
CODE_LATENCY = Histogram(
    "otpbot_code_latency_seconds",
    "From storing an SMS to Telegram accepting its message",
    ["provider", "path"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_DEPTH = Gauge("otpbot_outbox_depth", "Messages stored and not yet delivered")
UPDATES_HANDLED = Counter("otpbot_updates_handled", "Telegram updates handled", ["kind"])
UPDATE_LATENCY = Histogram(
    "otpbot_update_latency_seconds", "From receiving a Telegram update to its handler finishing",
    ["kind"], buckets=TAP_BUCKETS,
)
