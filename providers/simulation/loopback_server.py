"""Run an ASGI app with uvicorn on 127.0.0.1 (or another `host`) and a free port, inside the
running event loop.

Shared by the provider simulators, the tests' fake Bot API server and deploy/'s round-robin front.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn


class LoopbackServer:
    """`await start()` binds 127.0.0.1 (or `host`) on a free port (or `port`); `await stop()` shuts
    it down."""

    def __init__(self, app: object, port: int = 0, host: str = "127.0.0.1") -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self.port: int = 0

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit TCP_NODELAY on Linux; without it uvicorn's separate header
        # and body writes wait for the client's delayed ACK (~40 ms per response).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self._host, self._requested_port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        # uvicorn would install its own signal handlers; the host program owns them.
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # re-raise the start-up failure
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, timeout=5)
        except asyncio.TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
        self._server = None
        self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
