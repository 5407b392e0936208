"""The owned-config confirmation waits out an asynchronous reload.

After a reload an old nginx worker (or HAProxy process) may accept a few more connections
with the previous config; a few quick answers with the new id are not enough, every answer
over a settle window must carry it, and one old answer starts the window again.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.errors import GatewayError
from workbench.gateway import operator
from workbench.gateway.operator import OperatorGateway


def _gateway() -> OperatorGateway:
    gw = object.__new__(OperatorGateway)
    gw.id = "edge"
    gw.cfg = SimpleNamespace(listen="127.0.0.1:9443")
    gw._tls = lambda: ("server.pem", "server.key")
    return gw


def _scripted(monkeypatch, answers: list[str | None]) -> list[str | None]:
    """fetch_config_id answers from the script, then the new id for ever; returns the calls."""
    calls: list[str | None] = []

    def fetch(host, port, cert, *, timeout):
        answer = answers[len(calls)] if len(calls) < len(answers) else "new"
        calls.append(answer)
        return answer

    monkeypatch.setattr(operator, "fetch_config_id", fetch)
    return calls


def test_an_old_answer_after_a_new_streak_starts_the_window_again(monkeypatch):
    monkeypatch.setattr(operator, "CONFIRM_SETTLE", 0.2)
    calls = _scripted(monkeypatch, ["old", "new", "new", "new", "old"])
    _gateway()._confirm("new")
    # It did not stop at the first streak of three: it saw the old worker answer again,
    # and then kept asking until a whole window answered with the new id.
    assert calls[:5] == ["old", "new", "new", "new", "old"]
    assert len(calls) >= 5 + operator.CONFIRM_STREAK and set(calls[5:]) == {"new"}


def test_a_gateway_that_never_settles_is_refused(monkeypatch):
    monkeypatch.setattr(operator, "CONFIRM_SETTLE", 0.2)
    monkeypatch.setattr(operator, "CONFIRM_TIMEOUT", 1.0)
    _scripted(monkeypatch, ["new", "new", "new", "old"] * 1000)
    with pytest.raises(GatewayError, match="did not confirm the new config"):
        _gateway()._confirm("new")
