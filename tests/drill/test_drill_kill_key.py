"""`workbench drill kill-key`: the static key dies on the gateway at once, refused at every
entry point, proven two-sided by the verifier; it names who would break and wants --force."""

import pytest
from drill_support import GATEWAYS, run_json

from workbench.cli import main


def _status_of(url, header, value, ca):
    import ssl
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(ca))
    req = urllib.request.Request(url, headers={header: value})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("lab", GATEWAYS, indirect=True)
def test_kill_key_retires_it_everywhere(lab, capsys):
    ws, root, port = lab
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    url = f"https://127.0.0.1:{port}/payments-api/health"
    value = (root / "state" / "keys" / "pay-key-prod.key").read_text().strip()
    assert _status_of(url, "X-API-Key", value, ca) == 200

    code, doc = run_json(capsys, ["drill", "kill-key", "--step", "pay-key-prod", *w])
    assert code == 0, doc["reasons"]
    assert doc["verdict"] == "PASS" and doc["kind"] == "kill-key"
    [entry] = doc["entry_points"]
    assert entry["entry_point"] == url and entry["refused"] and entry["stable_s"] > 0
    assert doc["checks"]["verifier_verdict"] == "PASS"
    assert doc["checks"]["state_after"] == "verified"
    assert value not in str(doc) and doc["revoked"][0].startswith("key fp=")
    assert _status_of(url, "X-API-Key", value, ca) in (401, 403)
    # fraud-key shares payments-api and is not killed.
    fraud = (root / "state" / "keys" / "fraud-key.key").read_text().strip()
    assert _status_of(url, "X-API-Key", fraud, ca) == 200
    # Nothing left to kill.
    assert main(["drill", "kill-key", "--step", "pay-key-prod", *w]) == 2
    assert "kill-key is for a step" in capsys.readouterr().err
    files = [p for p in ws.rglob("*") if p.is_file()]  # the database, its WAL, the audit log
    assert {"audit.jsonl", "state.db"} <= {p.name for p in files}
    for path in files:
        assert value.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("lab", [GATEWAYS[0]], indirect=True)
def test_kill_key_names_who_breaks_and_wants_force(lab, capsys):
    ws, root, port = lab
    w = ["--workspace", str(ws)]
    # refund-worker's certificate was revoked: it would break when the key dies.
    assert main(["revoke", "--service", "refund-worker", *w]) == 0
    capsys.readouterr()
    assert main(["drill", "kill-key", "--step", "pay-key-prod", *w]) == 1
    err = capsys.readouterr().err
    assert "refund-worker" in err and "--force" in err and len(err.strip().splitlines()) == 1
    ca = ws / "ca" / "chain.pem"
    url = f"https://127.0.0.1:{port}/payments-api/health"
    value = (root / "state" / "keys" / "pay-key-prod.key").read_text().strip()
    assert _status_of(url, "X-API-Key", value, ca) == 200  # untouched
    code, doc = run_json(capsys, ["drill", "kill-key", "--step", "pay-key-prod", "--force", *w])
    assert code == 0, doc["reasons"]
    assert doc["checks"]["consumers_without_certificate"] == ["refund-worker"]
    assert doc["entry_points"][0]["refused"]
    assert _status_of(url, "X-API-Key", value, ca) in (401, 403)
    # A step nobody holds a certificate for yet cannot be killed this way.
    assert main(["drill", "kill-key", "--step", "cards-key", "--force", *w]) == 2
    assert "issue" in capsys.readouterr().err
