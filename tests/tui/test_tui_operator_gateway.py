"""The TUI against the gateways operators run (real nginx, real HAProxy; the fixtures of
tests/gateway/test_operator_gateways.py): `verify --wave` in a worker with progress and a
verdict per step, and a cut-over refused by the real access log, then `--force`d from the
dialog that gives the reason."""

import asyncio
import json
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tui_support import SIZE, notifications, screen_text, settle, until, workspace_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
from operator_support import ORDERS_KEY, operator_workspace  # noqa: E402  (tests/gateway's)

from workbench.cli import main  # noqa: E402
from workbench.tui.screens.blocked import BlockedCutoverScreen  # noqa: E402
from workbench.tui.widgets.status import ActionStatus  # noqa: E402
from workbench.tui.widgets.steps import StepsTable  # noqa: E402


def _cli(capsys, *argv: str) -> dict:
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out) if out.strip() else {}


def _get(url: str, ca: Path, *, key: str | None = None, agent: str = "test/1") -> int:
    ctx = ssl.create_default_context(cafile=str(ca))
    headers = {"User-Agent": agent, **({"X-API-Key": key} if key else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), context=ctx):
            return 200
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(params=[pytest.param("nginx", marks=pytest.mark.nginx), "haproxy"])
def operator_ws(request, tmp_path, quiet_env, capsys):
    """A workspace on an operator gateway, both steps issued and in dual."""
    with operator_workspace(request.param, tmp_path, quiet_env) as (_op, ws, port, _inv):
        for step in ("orders-key", "billing-key"):
            w = ("--step", step, "--workspace", str(ws))
            _cli(capsys, "issue", *w)
            assert _cli(capsys, "gateway", "set-mode", "dual", *w)["to_mode"] == "dual"
        yield ws, port


def _cells(app, step: str) -> dict[str, str]:
    return app.query_one(StepsTable).cells_of(step)


async def test_verify_wave_runs_in_a_worker_with_progress_and_a_verdict_per_step(
    operator_ws, capsys
):
    ws, port = operator_ws
    # orders-key is cut over (mtls): its proof holds. billing-key stays in dual: the edge
    # still takes its old key, so its verify must FAIL.
    # (In a thread: the CLI runs its own event loop, the test already has one.)
    argv = ("cutover", "--step", "orders-key", "--force", "--workspace", str(ws))
    out = await asyncio.to_thread(_cli, capsys, *argv)
    assert out["verdict"] == "PASS", out
    app = workspace_app(ws, clock=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.selected_wave == 1
        assert {_cells(app, "orders-key")["wave"], _cells(app, "billing-key")["wave"]} == {"1"}
        before = _cells(app, "billing-key")["verdict"]
        assert before == "-"

        status = app.query_one(ActionStatus)
        ticks = []
        advance = status.advance
        status.advance = lambda done, total: (
            ticks.append((done, total, app.busy)),
            advance(done, total),
        )
        app.request("verify-wave")
        # First a check in a worker (old-key values), then the job in another: the UI is live.
        assert app.busy == "checking verify --wave 1"
        assert any(w.group == "check" and not w.is_finished for w in app.workers)
        await until(pilot, lambda: app.busy is None and app.last_result is not None, "verify")
        await settle(app, pilot)
        # Progress came from the worker, one tick per step of the wave, under its name.
        assert ticks == [(n, 2, "verify --wave 1") for n in range(3)]
        bar = status.query_one("#status-bar")
        assert (bar.total, bar.progress) == (2, 2)
        result = app.last_result
        assert result is not None and not result.ok, notifications(app)
        assert result.message.startswith("wave 1: FAIL (")
        assert "orders-key PASS" in result.message and "billing-key FAIL" in result.message
        # The per-step verdicts are on the plan, which the app shows afterwards.
        assert app.query_one("#tabs").active == "plan"
        assert _cells(app, "orders-key")["verdict"] == "PASS"
        assert _cells(app, "billing-key")["verdict"] == "FAIL"
        lines = screen_text(app).splitlines()
        for step, verdict in (("orders-key", "PASS"), ("billing-key", "FAIL")):
            [line] = [x for x in lines if x.startswith("│ 1 ") and f" {step} " in x]
            assert line.split()[-2:] == [verdict, "│"], line  # the verdict column, on screen
        rows = {r.key: r.verdict for r in app.snapshot.rows}
        assert rows == {"orders-key": "PASS", "billing-key": "FAIL"}
        assert set(app.snapshot.evidence) == {"orders-key", "billing-key"}
        assert app.snapshot.evidence["billing-key"].verdict == "FAIL"


async def test_blocked_cutover_shows_the_reason_and_force_cuts_over(operator_ws):
    ws, port = operator_ws
    ca = ws / "ca" / "chain.pem"
    orders = f"https://127.0.0.1:{port}/orders-api/health"
    # A consumer still sends the old key: the edge accepts it (dual) and logs it.
    assert _get(orders, ca, key=ORDERS_KEY, agent="shop/1.0") == 200

    app = workspace_app(ws, clock=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one(StepsTable)
        table.move_cursor(row=table.get_row_index("orders-key"))
        await pilot.pause()
        assert app.selected_step == "orders-key"

        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, BlockedCutoverScreen), "the dialog")
        blocked = app.screen.blocked
        assert blocked.step == "orders-key" and blocked.accepted >= 1
        assert "shop/1.0" in blocked.user_agents  # read from the real access log
        text = screen_text(app)
        assert "refused by its usage check" in text and "shop/1.0" in text
        assert "--force: cut over now" in text and "--since" in text
        assert app.focused.id == "blocked-cancel"  # Enter alone changes nothing
        assert _get(orders, ca, key=ORDERS_KEY) == 200  # nothing changed yet

        await pilot.click("#blocked-force")
        await until(pilot, lambda: app.last_result is not None, "the forced cut-over")
        await settle(app, pilot)
        assert app.last_result.ok and "PASS" in app.last_result.message, notifications(app)
        assert _cells(app, "orders-key")["state"] == "verified"
        assert app.query_one("#tabs").active == "evidence"
        # The detail names the key it probed by fingerprint (the inventory gives none).
        probed = app.snapshot.evidence["orders-key"].old_key_fingerprint
        assert len(probed) >= 12 and app.snapshot.details["orders-key"].fingerprint == probed
        await pilot.press("1")
        await pilot.pause()
        text = screen_text(app)
        assert f"old key fingerprint: {probed}" in text and ORDERS_KEY not in text
    # The edge now refuses the old key.
    assert _get(orders, ca, key=ORDERS_KEY) == 401
