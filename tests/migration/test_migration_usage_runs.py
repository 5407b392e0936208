"""Req. 33: usage leaves out exactly the verifier's own recorded runs (token and time), not
everyone who sends the verifier's User-Agent."""

import json
from datetime import UTC, datetime, timedelta

from workbench.gateway.usage import read_usage

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TOKEN = "a" * 32


def _line(at, agent, status=200):
    return json.dumps(
        {"time": at.isoformat(timespec="seconds"), "api": "pay", "method": "GET",
         "path": "/pay/health", "status": status, "auth": "key", "identity": "0123456789ab",
         "client_ip": "127.0.0.1", "user_agent": agent, "gateway": "python"}
    )  # fmt: skip


def test_only_the_recorded_runs_own_requests_are_left_out(tmp_path):
    log = tmp_path / "access.jsonl"
    run = (TOKEN, T0, T0 + timedelta(seconds=3))
    log.write_text(
        "\n".join(
            [
                _line(T0 + timedelta(seconds=1), f"workbench-verify/2 run/{TOKEN}"),  # the run
                _line(T0 + timedelta(seconds=2), "workbench-verify/2"),  # the fixed marker
                _line(T0 + timedelta(seconds=2), "workbench-verify/2 run/" + "b" * 32),  # guessed
                _line(T0 + timedelta(minutes=5), f"workbench-verify/2 run/{TOKEN}"),  # replayed
                _line(T0 + timedelta(seconds=2), "checkout-web/1.0"),
            ]
        )
        + "\n"
    )
    report = read_usage(log, api="pay", key_fingerprint="0123456789ab", exclude_runs=(run,))
    assert report.requests == report.accepted == 4
    everything = read_usage(log, api="pay", key_fingerprint="0123456789ab")
    assert everything.accepted == 5
