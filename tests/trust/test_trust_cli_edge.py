"""Issue 11 points 6 and 7 at the CLI edge.

6. ``export playbook`` never requires the old keys' variables: a planning session has none.
7. Every command taking a step, wave or service answers an unknown id in one line with the
   nearest known ids (exit 2, no traceback); with ``--json`` the error is JSON on stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.errors import UnknownIdError
from workbench.inventory import loads_inventory


def test_export_playbook_needs_no_old_key_variable(ws, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("TRUST_PAY_KEY", raising=False)
    monkeypatch.delenv("TRUST_LEDGER_KEY", raising=False)
    for fmt in ("md", "json"):
        argv = ["export", "playbook", "--all", "--format", fmt, "-o", str(tmp_path / fmt)]
        assert main([*argv, "--workspace", str(ws)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    ticket = json.loads(next((tmp_path / "json").rglob("*ledger-key*.json")).read_text())
    assert ticket["evidence"]["status"] != "PASS"
    assert ticket["step"]["key_fingerprint"] is None  # nothing recorded, nothing required


def test_export_playbook_still_guards_a_value_that_resolves(ws, capsys, monkeypatch, tmp_path):
    canary = "trust-edge-canary-7f3a9c"
    monkeypatch.setenv("TRUST_PAY_KEY", canary)
    argv = ["export", "playbook", "--all", "--format", "md", "-o", str(tmp_path / "md")]
    assert main([*argv, "--workspace", str(ws)]) == 0
    tickets = [p for p in (tmp_path / "md").rglob("*") if p.is_file()]
    assert tickets
    for path in tickets:
        assert canary not in path.read_text()


COMMANDS = [
    ["cutover", "--step", "pay-kye"],
    ["usage", "--step", "pay-kye"],
    ["verify", "--step", "pay-kye"],
    ["evidence", "--step", "pay-kye"],
    ["gateway", "set-mode", "dual", "--step", "pay-kye"],
    ["render", "--step", "pay-kye"],
    ["issue", "--step", "pay-kye"],
    ["renew", "--step", "pay-kye"],
    ["export", "playbook", "--step", "pay-kye"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_an_unknown_step_is_one_line_with_the_nearest(ws, capsys, argv):
    assert main([*argv, "--workspace", str(ws)]) == 2
    err = capsys.readouterr().err
    assert err == "unknown step 'pay-kye'; nearest: pay-key\n"


@pytest.mark.parametrize(
    ("argv", "what", "value"),
    [
        (["issue", "--wave", "9"], "wave", "9"),
        (["verify", "--wave", "9"], "wave", "9"),
        (["export", "playbook", "--wave", "9"], "wave", "9"),
        (["revoke", "--service", "shop-wbe"], "service", "shop-wbe"),
        (["token", "assertion", "--service", "shop-wbe", "--aud", "https://as.test/token"],
         "service", "shop-wbe"),
    ],
)  # fmt: skip
def test_unknown_waves_and_services_too(ws, capsys, argv, what, value):
    assert main([*argv, "--workspace", str(ws)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"unknown {what} '{value}'; ") and err.count("\n") == 1
    if what == "service":
        assert "nearest: shop-web" in err


def test_json_errors_are_json_on_stderr(ws, capsys, tmp_path):
    assert main(["cutover", "--step", "pay-kye", "--workspace", str(ws), "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    doc = json.loads(out.err)
    assert doc["error"] == "unknown step 'pay-kye'; nearest: pay-key"
    assert doc["location"] == "--step" and doc["nearest"] == ["pay-key"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\napis:\n  - id: A\n")
    assert main(["inventory", "check", str(bad), "--json"]) == 2
    doc = json.loads(capsys.readouterr().err)
    assert doc["location"].startswith(f"{bad}:3:") and doc["error"]
    assert len(doc["problems"]) > 1
    with pytest.raises(SystemExit):
        main(["status", "--workspace", str(ws), "--json", "--bogus"])
    doc = json.loads(capsys.readouterr().err)
    assert "--bogus" in doc["error"] and doc["location"] == "command line"


def test_a_real_subprocess_prints_no_traceback(ws):
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "usage", "--step", "no-such-key",
         "--workspace", str(ws)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("unknown step 'no-such-key'; ")


def test_core_lookups_raise_a_key_error_with_the_nearest():
    inv = loads_inventory(
        "version: 1\nservices:\n  - {id: shop-web, owner: t, environment: prod, "
        "exposure: internal}\n",
        "i.yaml",
    )
    with pytest.raises(KeyError) as info:
        inv.service("shop-wbe")
    assert isinstance(info.value, UnknownIdError)
    assert str(info.value) == "unknown service 'shop-wbe'; nearest: shop-web"
