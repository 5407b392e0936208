"""The audit view shows, per gateway, the CRL it serves and warns before it goes stale (as
`workbench status` does), read from a real sample environment."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Static
from tui_support import PASSPHRASE, SIZE, free_port, make_workspace, settle

from workbench.cli import main
from workbench.tui.app import WorkbenchApp
from workbench.tui.source import WorkspaceSource


@pytest.fixture
def running_env(tmp_path, quiet_env, capsys):
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    ws = make_workspace(tmp_path, port=free_port(), clock=False)
    capsys.readouterr()
    assert main(["sample-env", "up", "--workspace", str(ws), "--json"]) == 0
    capsys.readouterr()
    try:
        yield ws
    finally:
        main(["sample-env", "down", "--workspace", str(ws)])


async def _crl_text(ws, clock) -> str:
    app = WorkbenchApp(WorkspaceSource(ws, clock=clock))
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")  # the audit view
        await settle(app, pilot)
        return str(app.query_one("#crl-health", Static).render())


async def test_audit_view_shows_each_gateways_crl_and_warns_when_it_expires(running_env, capsys):
    capsys.readouterr()
    assert main(["status", "--workspace", str(running_env), "--json"]) == 0
    crls = json.loads(capsys.readouterr().out)["crl"]
    assert crls and all(c["state"] == "ok" for c in crls)
    now = datetime.now(UTC)
    text = await _crl_text(running_env, lambda: now)
    for c in crls:
        assert f"CRL {c['gateway']} ({c['server']}): #{c['number']}" in text
    assert ": ok" in text and "expired" not in text
    # The same gateways seen a month later: the CRL's nextUpdate has passed.
    later = await _crl_text(running_env, lambda: now + timedelta(days=30))
    assert "expired" in later and "workbench crl" in later


async def test_audit_view_says_when_no_gateway_has_run(tmp_path, quiet_env):
    ws = make_workspace(tmp_path)
    text = await _crl_text(ws, None)
    assert "no gateway has run for this workspace yet" in text
