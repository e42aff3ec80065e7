"""GotSMS simulator: a real HTTP server with in-memory state, for tests, benchmarks and sandbox mode.

Implements /work/shared/provider-docs/gotsms.openapi.yaml.txt (and the Postman collection) under `/api`;
the Python control API is the "Simulator" section of docs/gotsms.md. State and control API live in
`state.py`, the endpoints in `handlers.py`; this module serves them and injects faults. Run standalone with
`python -m providers.gotsms.simulator.sim --port 8083` (sandbox mode, automatic SMS after 5 s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.gotsms.simulator.handlers import SimHandlers
from providers.gotsms.simulator.http import GotSmsContext, Invalid, fail, read_gotsms_context
from providers.gotsms.simulator.models import Account, LostAnswer, RecordedRequest, SimMessage, SimRent
from providers.gotsms.simulator.state import UNAUTHENTICATED, SimState
from providers.simulation.faults import Body, Faults, Loss, Rule, lost_answer
from providers.simulation.requests import count_requests
from providers.simulation.simulator_base import LoopbackSimulator, run_standalone

__all__ = ["GotSmsSimulator", "LostAnswer", "SimRent", "SimMessage", "RecordedRequest"]


Handler = Callable[[GotSmsContext, Account], Response]

# How each LostAnswer is made: the rule's own answer (a Laravel 500), or the real one cut short.
_LOSSES: dict[LostAnswer, Rule] = {
    LostAnswer.SERVER_ERROR: Rule("", status=500, body={"success": False, "message": "Server Error."}),
    LostAnswer.TRUNCATED: Rule("", loss=Loss.TRUNCATED),
    LostAnswer.DROPPED: Rule("", loss=Loss.DROPPED),
}


class GotSmsSimulator(SimHandlers, LoopbackSimulator):
    """In-memory GotSMS: accounts, catalogue, rents, messages, plus knobs to inject faults."""

    def __init__(self, sandbox: bool = False, auto_sms_after: float | None = None) -> None:
        LoopbackSimulator.__init__(self)
        SimState.__init__(self, sandbox, auto_sms_after)
        self.requests: list[RecordedRequest] = []
        self._faults = Faults("prefix", seed="gotsms-faults")
        self.app: Starlette = self._build_app()

    # ------------------------------------------------------------------ fault injection and records

    def fail_next(self, method: str, path_prefix: str, status: int,
                  body: Body = None, times: int = 1, *,
                  headers: dict[str, str] | None = None) -> None:
        """The next matching requests are answered INSTEAD of processed (nothing happens)."""
        self._faults.instead.add(Rule(path_prefix, times, method.upper(), status=status, body=body, headers=headers))

    def lose_answer_next(self, method: str, path_prefix: str, how: LostAnswer = LostAnswer.SERVER_ERROR,
                         times: int = 1) -> None:
        """The next matching requests ARE processed (a rent bought, messages marked read), then
        their answer is lost: a 500, a truncated JSON body, or a dropped connection."""
        loss = _LOSSES[LostAnswer(how)]
        self._faults.losses.add(replace(loss, path=path_prefix, times=times, method=method.upper()))

    def delay_next(self, method: str, path_prefix: str, seconds: float, times: int = 1) -> None:
        """The next matching requests wait `seconds` before being processed: a client that
        times out first does not know that they still take effect."""
        self._faults.stalls.add(Rule(path_prefix, times, method.upper(), seconds=seconds))

    def request_count(self, method: str | None = None, path: str | None = None, token: str | None = None) -> int:
        """Requests matching every given filter; `path` is an exact path (no query string)."""
        return count_requests(self.requests, method, path, token)

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
            ctx = await read_gotsms_context(request)
            record = ctx.record(RecordedRequest)
            self.requests.append(record)
            response = await self._faulty(handler, ctx, auth)
            record.status = response.status_code
            return response

        return endpoint

    async def _faulty(self, handler: Handler, ctx: GotSmsContext, auth: bool) -> Response:
        # GotSMS's delay comes before everything, an injected failure included.
        stall = self._faults.stalls.take(ctx.method, ctx.path)
        if stall is not None:
            await self._pause(stall.seconds)
        injected = self._faults.injected(ctx.method, ctx.path)
        if injected is not None:  # fail_next: answer INSTEAD of processing
            return injected
        loss = self._faults.losses.take(ctx.method, ctx.path)
        response = self._process(handler, ctx, auth)
        return response if loss is None else lost_answer(loss, response)

    def _process(self, handler: Handler, ctx: GotSmsContext, auth: bool) -> Response:
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
