"""The scale benchmark itself, at a tiny size: two real `python -m bot worker` processes on a real
PostgreSQL share the accounts, every code reaches its chat once, and the report prints. Its
timings are the benchmark's to judge (bench/), not this test's."""

from __future__ import annotations

import pytest

from bench.postgres import bench_postgres
from bench.scale_config import parse_args
from bench.scale_report import print_estimate, print_layout
from bench.scale_run import POSTGRES, run_layout


@pytest.mark.timeout(180)
async def test_two_workers_share_the_accounts_and_send_every_code_once(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = parse_args(["--orders", "24", "--chats", "6", "--workers", "2", "--layouts", "workers",
                      "--poll-interval", "0.5", "--codes-per-second", "24", "--warmup", "0.5", "--fast-disk"])
    with bench_postgres(durable=cfg.durable) as pg:
        result = await run_layout(cfg, cfg.layouts[0], pg)
    assert [p.label for p in result.providers] == ["kiwi", "GotSMS"]
    for provider in result.providers:
        assert provider.delivered.exactly_once, provider.label
        assert provider.delivered.count == provider.delivered.expected == 12
        assert provider.other_requests == 0 and provider.close_polls == 0
    assert result.unexpected_codes == 0 and result.not_injected == 0
    assert result.leases_at_start is not None and sorted(result.leases_at_start.values()) == [3, 3]
    assert result.exit_codes == [0, 0]
    assert result.bot_groups == ["worker 1", "worker 2"] and result.cpu.groups[POSTGRES] > 0
    print_layout(cfg, result)
    print_estimate(cfg, result)
    report = capsys.readouterr().out
    assert "every code exactly once" in report and "24/24  PASS" in report and "per poll" in report
