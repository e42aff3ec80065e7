"""GotSMS simulator: a real HTTP server with in-memory state, for tests, benchmarks and sandbox mode.

Implements /work/shared/provider-docs/gotsms.openapi.yaml.txt (and the Postman collection) under `/api`;
the Python control API is the "Simulator" section of docs/gotsms.md. State and control API live in
`state.py`, the endpoints in `handlers.py`; this module serves them and injects faults. Run standalone with
`python -m providers.gotsms.simulator.sim --port 8083` (sandbox mode, automatic SMS after 5 s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.gotsms.simulator.handlers import SimHandlers
from providers.gotsms.simulator.http import (
    Invalid,
    RequestContext,
    RuleQueue,
    fail,
    injected_response,
    lost_answer,
    read_context,
)
from providers.gotsms.simulator.models import Account, LostAnswer, RecordedRequest, Rule, SimMessage, SimRent
from providers.gotsms.simulator.state import UNAUTHENTICATED, SimState
from providers.simulation.simulator_base import LoopbackSimulator, run_standalone

__all__ = ["GotSmsSimulator", "LostAnswer", "SimRent", "SimMessage", "RecordedRequest"]


Handler = Callable[[RequestContext, Account], Response]


class GotSmsSimulator(SimHandlers, LoopbackSimulator):
    """In-memory GotSMS: accounts, catalogue, rents, messages, plus knobs to inject faults."""

    def __init__(self, sandbox: bool = False, auto_sms_after: float | None = None) -> None:
        LoopbackSimulator.__init__(self)
        SimState.__init__(self, sandbox, auto_sms_after)
        self.requests: list[RecordedRequest] = []
        self._failures = RuleQueue()  # answer instead of processing
        self._losses = RuleQueue()  # process, then lose the answer
        self._delays = RuleQueue()  # wait, then process
        self.app: Starlette = self._build_app()

    # ------------------------------------------------------------------ fault injection and records

    def fail_next(self, method: str, path_prefix: str, status: int,
                  body: dict[str, Any] | str | None = None, times: int = 1, *,
                  headers: dict[str, str] | None = None) -> None:
        """The next matching requests are answered INSTEAD of processed (nothing happens)."""
        self._failures.add(Rule(method.upper(), path_prefix, times, status, body, headers=headers))

    def lose_answer_next(self, method: str, path_prefix: str, how: LostAnswer = LostAnswer.SERVER_ERROR,
                         times: int = 1) -> None:
        """The next matching requests ARE processed (a rent bought, messages marked read), then
        their answer is lost: a 500, a truncated JSON body, or a dropped connection."""
        self._losses.add(Rule(method.upper(), path_prefix, times, lost=LostAnswer(how)))

    def delay_next(self, method: str, path_prefix: str, seconds: float, times: int = 1) -> None:
        """The next matching requests wait `seconds` before being processed: a client that
        times out first does not know that they still take effect."""
        self._delays.add(Rule(method.upper(), path_prefix, times, seconds=seconds))

    def request_count(self, method: str | None = None, path: str | None = None, token: str | None = None) -> int:
        """Requests matching every given filter; `path` is an exact path (no query string)."""
        wanted = method.upper() if method else None
        return sum(
            1 for r in self.requests
            if (wanted is None or r.method == wanted) and (path is None or r.path == path)
            and (token is None or r.token == token)
        )

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_app(self) -> Starlette:
        ep = self._endpoint
        routes = [
            Route("/api/pricelist", ep(self._h_pricelist, auth=False), methods=["GET"]),
            Route("/api/account", ep(self._h_account), methods=["GET"]),
            Route("/api/services", ep(self._h_services), methods=["GET"]),
            Route("/api/rents/plans", ep(self._h_plans), methods=["GET"]),
            Route("/api/rents", ep(self._h_list_rents), methods=["GET"]),
            Route("/api/rents", ep(self._h_create_rent), methods=["POST"]),
            Route("/api/rents/{rent_id}/transition", ep(self._h_transition), methods=["POST"]),
            Route("/api/rents/{rent_id}/renewal/toggle", ep(self._h_toggle_renewal), methods=["POST"]),
            Route("/api/rents/{rent_id}/refund", ep(self._h_refund), methods=["POST"]),
            Route("/api/messages", ep(self._h_messages), methods=["GET"]),
            Route("/api/messages/unread", ep(self._h_unread), methods=["GET"]),
            Route("/api/numbers/{rent_id}/wake-up", ep(self._h_wake_up), methods=["POST"]),
            Route("/api/numbers/{rent_id}/messages", ep(self._h_number_messages), methods=["GET"]),
            Route("/api/numbers/{rent_id}/status", ep(self._h_number_status), methods=["GET"]),
            Route("/{path:path}", ep(self._h_not_found, auth=False),
                  methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
        return Starlette(routes=routes)

    def _endpoint(self, handler: Handler, *, auth: bool = True) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            ctx = await read_context(request)
            self.requests.append(ctx.record())
            delay = self._delays.take(ctx.method, ctx.path)
            if delay is not None:
                await self._pause(delay.seconds)
            injected = self._failures.take(ctx.method, ctx.path)
            if injected is not None:  # fail_next: answer INSTEAD of processing
                return injected_response(injected)
            loss = self._losses.take(ctx.method, ctx.path)
            response = self._process(handler, ctx, auth)
            return response if loss is None or loss.lost is None else lost_answer(loss.lost, response)

        return endpoint

    def _process(self, handler: Handler, ctx: RequestContext, auth: bool) -> Response:
        account = self._authenticate(ctx.token)
        if auth and account is None:
            return fail(401, UNAUTHENTICATED)
        try:
            return handler(ctx, account or Account("", Decimal(0)))
        except Invalid as exc:
            return fail(422, str(exc))


def main(argv: list[str] | None = None) -> None:
    run_standalone(lambda delay: GotSmsSimulator(sandbox=True, auto_sms_after=delay), "GotSMS", 8083, argv)


if __name__ == "__main__":
    main()
