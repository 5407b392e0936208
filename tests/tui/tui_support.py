"""Helpers for the TUI tests (imported by name; conftest.py only re-exports them)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from testkit import copy_inventory, free_port  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_env" / "inventory.yaml"
PASSPHRASE = "tui-test-passphrase-not-secret"
FIXED_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SIZE = (120, 36)

__all__ = [
    "FIXED_NOW",
    "PASSPHRASE",
    "SIZE",
    "app_inventory",
    "evidence_document",
    "footer_current",
    "fixed_clock",
    "free_port",
    "make_workspace",
    "notifications",
    "planning_app",
    "quiet_env",
    "screen_rows",
    "screen_text",
    "settle",
    "table_rows",
    "until",
    "workspace_app",
]


def fixed_clock() -> datetime:
    return FIXED_NOW


def app_inventory(tmp_path: Path):
    from workbench.inventory import load_inventory

    return load_inventory(copy_inventory(tmp_path))


def planning_app(inventory):
    """The read-only planning view, with the plan made for FIXED_NOW (ages do not drift)."""
    from workbench.plan import make_plan
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.source import PlanningSource

    plan = make_plan(inventory, today=FIXED_NOW.date())
    return _still(WorkbenchApp(PlanningSource(inventory, plan, clock=fixed_clock))), plan


def make_workspace(tmp_path: Path, *, port: int | None = None, clock: bool = True) -> Path:
    """A real workspace (CA included, cheap KDF) for a private inventory copy."""
    from workbench.migration import init_workspace

    inventory = copy_inventory(tmp_path, port)
    ws = tmp_path / "ws"
    init_workspace(
        inventory, ws, passphrase=PASSPHRASE, kdf_rounds=1, now=FIXED_NOW if clock else None
    )
    return ws


def workspace_app(ws: Path, *, clock: bool = True):
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.source import WorkspaceSource

    return _still(WorkbenchApp(WorkspaceSource(ws, clock=fixed_clock if clock else None)))


def _still(app):
    """No animations (tab underline, scrolling): faster and repeatable. TEXTUAL_ANIMATIONS
    is read when textual is imported, so the app instance is told directly. Toasts stay
    until read: the default 5 s let one expire between an action and the assertion on it
    when the machine was loaded (seen under pytest -n 2 at load 13)."""
    app.animation_level = "none"
    app.NOTIFICATION_TIMEOUT = 3600
    return app


async def settle(app, pilot, timeout: float = 120.0) -> None:
    """Wait for running workers and the messages they post, including the workers those
    messages start (a check's worker starts the action's from the UI thread)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        idle = all(w.is_finished for w in app.workers)
        if idle and not getattr(app, "busy", None) and not getattr(app, "loading", None):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the app did not settle within {timeout:.0f} s")


async def until(pilot, condition, what: str, timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await pilot.pause(0.02)


def table_rows(table) -> list[tuple]:
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def screen_text(app) -> str:
    """The visible screen as plain text (from the SVG screenshot: tags dropped, unescaped)."""
    svg = app.export_screenshot()
    body = svg[svg.index("<g class=") :] if "<g class=" in svg else svg
    text = re.sub(r"<[^>]+>", "", body)
    return html.unescape(text).replace("\xa0", " ")


def screen_rows(app) -> list[str]:
    """The visible screen as one plain-text line per terminal row, every cell in its column
    (the SVG screenshot drops cells that are only background, such as margins and padding).
    Read from the screen's compositor, as Textual's own screenshot is."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def footer_current(app) -> bool:
    """Whether the footer draws each action key greyed exactly when the app says so (its
    rebuild runs after a refresh: a snapshot taken before it shows the previous state)."""
    from workbench.tui.app import KEY_ACTIONS
    from workbench.tui.widgets.footer import KeysFooter

    keys = {k.action: k for k in app.query_one(KeysFooter).children}
    if not keys:
        return False
    for action in KEY_ACTIONS:
        state = app.check_action(action, ())
        if state is False:
            continue  # hidden (the planning view)
        if action not in keys or keys[action].has_class("-disabled") != (state is None):
            return False
    return True


def notifications(app) -> list:
    return list(app._notifications)


def evidence_document(step: str) -> dict:
    """A fixed verdict document in ``verdict_document``'s shape (repeatable snapshots)."""

    def probe(name, expected, observed, outcome, status, alert, ms):
        return {
            "name": name,
            "expected": expected,
            "observed": observed,
            "outcome": outcome,
            "evidence": {
                "name": name,
                "url": "https://127.0.0.1:8443/patient-records-api/health",
                "ip": "127.0.0.1",
                "port": 8443,
                "sni": None,
                "tls_version": "TLSv1.3",
                "http_status": status,
                "tls_alert": alert,
                "elapsed_ms": ms,
                "identity": name,
            },
        }

    return {
        "url": "https://127.0.0.1:8443/patient-records-api/health",
        "target": step,
        "verdict": "PASS",
        "probes": [
            probe("positive-control", "accepted", "HTTP 200", "pass", 200, None, 4.2),
            probe("old-key-only", "refused", "HTTP 401", "pass", 401, None, 3.1),
            probe("no-credentials", "refused", "HTTP 401", "pass", 401, None, 2.9),
            probe(
                "foreign-ca",
                "refused",
                "TLS alert TLSV1_ALERT_UNKNOWN_CA",
                "pass",
                None,
                "TLSV1_ALERT_UNKNOWN_CA",
                3.4,
            ),
            probe("other-service", "refused", "HTTP 403", "pass", 403, None, 3.0),
        ],
        "reasons": [
            "new certificate accepted, old key and 3 other credential(s) refused, "
            "all against 127.0.0.1:8443 (SNI none)"
        ],
        "started": "2026-11-20T09:00:00+00:00",
        "finished": "2026-11-20T09:00:01+00:00",
    }


@pytest.fixture
def quiet_env(monkeypatch):
    """No user settings leak into the app (colour, size, animations)."""
    for name in ("NO_COLOR", "COLUMNS", "LINES", "TEXTUAL", "WORKBENCH_CA_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    return monkeypatch
