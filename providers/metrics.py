"""Provider requests as `GET /metrics` reports them (prometheus-client's default registry).

`kind` is what came back: ok, client_error (4xx), rate_limited (429), server_error (5xx),
transport (no answer: timeout, connection refused).
"""

from __future__ import annotations

from prometheus_client import Counter

PROVIDER_REQUESTS = Counter(
    "otpbot_provider_requests", "Requests sent to a provider, by what came back", ["provider", "kind"]
)
PROVIDER_ERRORS = Counter(
    "otpbot_provider_errors", "Provider requests that failed, by kind", ["provider", "kind"]
)


def request_kind(status: int | None) -> str:
    """The `kind` label of an answer's HTTP status (None: no answer at all)."""
    if status is None:
        return "transport"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "ok"
