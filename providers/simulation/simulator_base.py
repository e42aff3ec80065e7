"""What every provider simulator shares: serving on loopback, background tasks, a clean stop."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from starlette.applications import Starlette

from providers.simulation.loopback_server import LoopbackServer


class LoopbackSimulator:
    """Base of the simulators: `start()` serves `self.app` on 127.0.0.1, `stop()` ends everything."""

    url_prefix = ""  # where the provider's API lives below the host (NonVoipUsNumber: /manager)
    app: Starlette

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = asyncio.Event()
        self._http: httpx.AsyncClient | None = None  # outbound callbacks, created on first use
        self._server: LoopbackServer | None = None

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1; `port=0` picks a free port."""
        self._stopping = asyncio.Event()
        self._server = LoopbackServer(self.app, port=port)
        await self._server.start()

    async def stop(self) -> None:
        # Wake delayed answers first so uvicorn's graceful shutdown does not wait on them.
        self._stopping.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.stop()
            self._server = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._server.url + self.url_prefix

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Fire-and-forget, but tracked so stop() can cancel it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _post_later(
        self, log: list[dict[str, Any]], delivery: dict[str, Any], request: dict[str, Any], delay: float = 0.0
    ) -> None:
        """POST an outbound callback (webhook) to `delivery["url"]` in the background; `request` are
        httpx's keyword arguments. The delivery lands in `log` with its `status` or `error`."""
        delivering = self._deliver(log, delivery, request, delay)
        try:
            self._spawn(delivering)
        except RuntimeError as exc:  # called with no running loop: record it, never raise
            delivering.close()
            delivery["error"] = repr(exc)
            log.append(delivery)

    async def _deliver(
        self, log: list[dict[str, Any]], delivery: dict[str, Any], request: dict[str, Any], delay: float
    ) -> None:
        if delay:
            await self._pause(delay)
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        try:
            response = await self._http.post(delivery["url"], **request)
            delivery["status"] = response.status_code
        except Exception as exc:  # a broken receiver must never break the simulator
            delivery["error"] = repr(exc)
        log.append(delivery)

    async def _pause(self, seconds: float) -> None:
        """Sleep that ends early when the simulator stops."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass


def run_standalone(
    make: Callable[[float], LoopbackSimulator], title: str, default_port: int, argv: list[str] | None = None
) -> None:
    """`python -m providers.simulation.<name>_sim`: one simulator in sandbox mode until Ctrl-C."""
    parser = argparse.ArgumentParser(description=f"Run the {title} simulator in sandbox mode.")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--auto-sms-after", type=float, default=5.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def serve() -> None:
        sim = make(args.auto_sms_after)
        await sim.start(port=args.port)
        logging.getLogger(__name__).info(
            "%s simulator on %s (sandbox: credentials starting with 'demo'); Ctrl-C to stop", title, sim.base_url
        )
        try:
            await asyncio.Event().wait()
        finally:
            await sim.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
