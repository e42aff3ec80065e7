"""Callback-path benchmark: the providers call the bot back the moment an SMS arrives.

    .venv/bin/python -m bench.callbacks [--rentals 1000 --chats 100 --nonvoip-orders 100 --nonvoip-chats 10
                                         --safety-poll 2 --poll-interval 1 --duration 60 --port 0]

The same run as `bench.delivery` (simulators and fake Bot API here, the bot as its own process,
one SMS per order at a random moment), with the bot in webhook mode (PUBLIC_URL: its one web
server) and every kiwiSMS and NonVoipUsNumber account's callbacks set up (bench/callback_setup.py):
the simulators POST a signed `sms.received` / an `incoming_message` to the bot as the SMS arrives.
Latency is from that callback request to the bot's `sendMessage` at the fake Bot API (target p50
<= 50 ms, p99 <= 150 ms). Polling stays on as the safety net, every `--safety-poll` seconds, so the
same SMS also shows up in a poll: every code must still reach its chat exactly once. GotSMS has
no callbacks and is left out unless asked for (`--gotsms-rents`).
"""

from __future__ import annotations

import argparse
import asyncio
import socket

from bench.callback_setup import CallbackOptions
from bench.config import parse_args
from bench.runner import run

# This benchmark's defaults, before the user's own options (argparse keeps the last value).
DEFAULTS = ["--nonvoip-orders", "100", "--nonvoip-chats", "10", "--gotsms-rents", "0"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--safety-poll", type=float, default=2.0,
                       help="CALLBACK_SAFETY_POLL_SECONDS: hooked accounts are still polled this often")
    extra.add_argument("--port", type=int, default=0, help="the bot's web server port (0: a free one)")
    own, rest = extra.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        extra.print_help()
        print()
    cfg = parse_args(DEFAULTS + rest, description=(__doc__ or "").split("\n")[0])
    options = CallbackOptions(port=own.port or _free_port(), safety_poll=own.safety_poll)
    raise SystemExit(asyncio.run(run(cfg, callbacks=options)))


if __name__ == "__main__":
    main()
