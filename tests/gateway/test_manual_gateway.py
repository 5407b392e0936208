"""A manual gateway: the workbench writes instructions, the operator records the change,
and cutover refuses to verify a change nobody recorded."""

from __future__ import annotations

import json

from testkit import SAMPLE

from workbench.cli import main

PASSPHRASE = "test-passphrase-not-secret"


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else None), captured.err


def test_manual_flow_instructions_applied_record_and_cutover_refusal(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    inv = tmp_path / "inventory.yaml"
    inv.write_text(
        SAMPLE.read_text() + "gateways:\n  - {id: legacy-edge, kind: manual, apis: [payments-api], "
        "access_log: logs/edge.log}\n"
    )
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "edge.log").write_text("")  # the operator's gateway logs here
    keys = tmp_path / "state" / "keys"
    keys.mkdir(parents=True)
    (keys / "pay-key-prod.key").write_text("payKEYvalue-0123456789abcdefXYZ\n")
    (keys / "pay-key-prod.key").chmod(0o600)
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    assert main(["init", str(inv), *w]) == 0
    assert main(["issue", "--step", "pay-key-prod", *w]) == 0

    code, change, _ = _json(capsys, ["gateway", "set-mode", "dual", "--step", "pay-key-prod", *w])
    assert code == 0 and not change["applied"] and change["gateway"] == "legacy-edge"
    assert any("gateway applied --step" in line for line in change["instructions"])
    saved = ws / "manual" / "legacy-edge" / "payments-api-dual.txt"
    assert saved.read_text().startswith("gateway legacy-edge (manual), API payments-api")

    def state():
        _, st, _ = _json(capsys, ["status", *w])
        return {s["key"]: s["state"] for s in st["steps"]}["pay-key-prod"]

    assert state() == "issued"  # nothing recorded, nothing moved
    code, change, _ = _json(
        capsys, ["gateway", "applied", "--step", "pay-key-prod", "--mode", "dual", *w]
    )
    assert code == 0 and change["applied"] and change["to_mode"] == "dual"
    assert state() == "dual"

    # cutover before the operator recorded mtls: refused, nothing changed, one line, exit 2
    code, out, err = _json(capsys, ["cutover", "--step", "pay-key-prod", "--force", *w])
    assert code == 2 and "gateway applied --step pay-key-prod --mode mtls" in err, (out, err)
    assert "Traceback" not in err and state() == "dual"

    # Retiring pay-key-prod leaves payments-api in dual for fraud-key: recording the step's
    # mtls records that route (and the step is cut over).
    code, change, _ = _json(capsys, ["gateway", "set-mode", "mtls", "--step", "pay-key-prod", *w])
    assert code == 0 and not change["applied"] and state() == "dual"
    code, change, _ = _json(
        capsys, ["gateway", "applied", "--step", "pay-key-prod", "--mode", "mtls", *w]
    )
    assert code == 0 and change["applied"], change
    assert change["to_mode"] == "dual" and change["keys_accepted"] == ["fraud-key"]
    assert state() == "cut_over"

    # `gateway applied` is for manual gateways only
    code, _, err = _json(
        capsys, ["gateway", "applied", "--step", "cards-key", "--mode", "dual", *w]
    )
    assert code == 2 and "set-mode" in err
    _, records, _ = _json(capsys, ["audit", "show", *w])
    changes = [r for r in records if r["action"] == "gateway.change"]
    assert len(changes) == 2
