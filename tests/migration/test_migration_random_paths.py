"""The workbench works wherever it is put: inventories and workspaces under directories whose
names look random (mktemp, UUIDs, base64-like hashes), as CI runners and build agents make.

The audit log's secret guard once read such a path as a high-entropy secret and refused
`init`; these runs go through init, issue, a cut-over and an export in each kind of place.
"""

import json
import uuid

import pytest
from migration_support import PASSPHRASE, copy_inventory, free_port, pid_alive

from workbench.cli import main
from workbench.workspace.audit import SecretGuard

RANDOM_LOOKING = {
    "mktemp": "tmp.xQ7fZk2LpW",
    "uuid": str(uuid.UUID("3f6c1d2e-9b7a-4c5d-8e1f-0a2b3c4d5e6f")),
    "uuid-hex": "3f6c1d2e9b7a4c5d8e1f0a2b3c4d5e6f",
    "base64": "dGhpcyBpcyBhIHJhbmRvbTQyWjk",
    "base64url": "Zx8Qp2Lm9Rt4Wv7Yb1Nc5Hd3Kf6Jg0Ts",
}


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


@pytest.mark.parametrize("name", sorted(RANDOM_LOOKING))
def test_guard_accepts_the_places_it_records(tmp_path, name):
    place = tmp_path / RANDOM_LOOKING[name] / "inventory.yaml"
    place.parent.mkdir()
    place.write_text("{}")
    SecretGuard().check(
        {
            "inventory": str(place),
            "workspace": str(place.parent / "ws"),
            "note": f"created from {place} and {place.parent}/ws/state.db",
            "url": f"https://127.0.0.1:8443/{RANDOM_LOOKING[name]}/health",
        }
    )


def test_guard_still_refuses_secrets_in_and_beside_places(tmp_path):
    from workbench.errors import AuditError
    from workbench.secrets import SecretValue

    secret = "Zx8Qp2Lm9Rt4Wv7Yb1Nc5Hd3Kf6Jg0Ts"
    for details in (
        {"reason": f"key {secret}"},  # the same string that is fine as a directory name
        {"reason": f"key /{secret}"},  # looks like a path, but no such place exists
        {"url": f"https://api.test/v1?api_key={secret}"},  # in a query, not a place
        {"path": f"{tmp_path}/sk_live_4eC39HqLyjWDarjtT1zdp7dc"},  # a token shape, anywhere
    ):
        with pytest.raises(AuditError, match="looks like a secret"):
            SecretGuard().check(details)
    # A value this process resolved is refused even inside a real path.
    live = SecretValue("live-key-" + "q" * 12)
    (tmp_path / live.reveal()).mkdir()
    with pytest.raises(AuditError, match="registered secret"):
        SecretGuard().check({"path": str(tmp_path / live.reveal())})


@pytest.mark.parametrize("name", ["mktemp", "uuid", "base64"])
def test_init_issue_cutover_export_under_random_looking_directory(
    tmp_path, monkeypatch, capsys, name
):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    home = tmp_path / RANDOM_LOOKING[name]
    home.mkdir()
    port = free_port()
    inventory = copy_inventory(home, port)
    ws = home / "ws"
    w = ["--workspace", str(ws)]
    assert main(["init", str(inventory), *w]) == 0, capsys.readouterr().err
    assert main(["issue", "--step", "pay-key-prod", *w]) == 0
    code, status = _json(capsys, ["sample-env", "up", *w])
    assert code == 0
    try:
        assert main(["gateway", "set-mode", "dual", "--step", "pay-key-prod", *w]) == 0
        code, out = _json(capsys, ["cutover", "--step", "pay-key-prod", "--force", *w])
        assert code == 0 and out["verdict"] == "PASS", out
    finally:
        _json(capsys, ["sample-env", "down", *w])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not pid_alive(pid)
    out_dir = home / "playbooks"
    code, written = _json(
        capsys, ["export", "playbook", "--all", "--format", "md", "-o", str(out_dir), *w]
    )
    assert code == 0 and written["files"]
    assert main(["audit", "verify", *w]) == 0
