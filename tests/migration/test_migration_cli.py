"""init / issue / revoke / crl / renew / status through the CLI, on the sample inventory."""

import json
import stat
import subprocess

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from workbench.cli import main


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_issue_writes_a_certificate_per_consumer_and_is_idempotent(workspace, capsys):
    code, first = _json(capsys, ["issue", "--step", "pay-key-prod", "--workspace", str(workspace)])
    assert code == 0
    certs = first[0]["certificates"]
    assert sorted(c["service"] for c in certs) == sorted(first[0]["issued"])
    assert {c["service"] for c in certs} == {
        "checkout-web",
        "mobile-bff",
        "billing-worker",
        "refund-worker",
    }
    for c in certs:
        cert = x509.load_pem_x509_certificate((workspace / c["cert"]).read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
            f"spiffe://acme.test/prod/{c['service']}"
        ]
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        key = workspace / c["key"]
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    code, again = _json(capsys, ["issue", "--step", "pay-key-prod", "--workspace", str(workspace)])
    assert again[0]["issued"] == []
    assert [c["serial"] for c in again[0]["certificates"]] == [c["serial"] for c in certs]
    code, status = _json(capsys, ["status", "--workspace", str(workspace)])
    step = next(s for s in status["steps"] if s["key"] == "pay-key-prod")
    assert step["state"] == "issued" and len(step["certificates"]) == 4


def test_issued_chain_passes_openssl_client_verification(workspace, capsys):
    _, out = _json(capsys, ["issue", "--step", "cards-key", "--workspace", str(workspace)])
    c = out[0]["certificates"][0]
    proc = subprocess.run(
        [
            "openssl",
            "verify",
            "-purpose",
            "sslclient",
            "-CAfile",
            str(workspace / "ca/root.crt"),
            "-untrusted",
            str(workspace / "ca/intermediate.crt"),
            str(workspace / c["cert"]),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_revoke_publishes_crls_that_openssl_enforces(workspace, capsys):
    _, out = _json(capsys, ["issue", "--step", "cards-key", "--workspace", str(workspace)])
    c = out[0]["certificates"][0]
    code, rev = _json(
        capsys, ["revoke", c["serial"], "--reason", "keyCompromise", "--workspace", str(workspace)]
    )
    assert code == 0 and rev["revoked"][0]["status"] == "revoked"
    first_number = rev["crl"]["number"]
    proc = subprocess.run(
        [
            "openssl",
            "verify",
            "-purpose",
            "sslclient",
            "-crl_check_all",
            "-CRLfile",
            str(workspace / "crl/crl.pem"),
            "-CAfile",
            str(workspace / "ca/root.crt"),
            "-untrusted",
            str(workspace / "ca/intermediate.crt"),
            str(workspace / c["cert"]),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "revoked" in (proc.stdout + proc.stderr)
    code, crl = _json(capsys, ["crl", "--workspace", str(workspace)])
    assert crl["number"] > first_number


def test_renew_replaces_the_certificate_and_warns_about_bound_tokens(workspace, capsys):
    _, out = _json(capsys, ["issue", "--step", "cards-key", "--workspace", str(workspace)])
    old = out[0]["certificates"][0]
    capsys.readouterr()
    assert main(["renew", "--all", "--workspace", str(workspace)]) == 0
    captured = capsys.readouterr()
    assert old["serial"][:16] in captured.out
    assert "x5t#S256" in captured.err and old["x5t#S256"] in captured.err
    _, status = _json(capsys, ["status", "--workspace", str(workspace)])
    step = next(s for s in status["steps"] if s["key"] == "cards-key")
    assert [c["serial"] for c in step["certificates"]] != [old["serial"]]


def test_audit_chain_covers_every_operation_and_detects_tampering(workspace, capsys):
    main(["issue", "--step", "cards-key", "--workspace", str(workspace)])
    main(["crl", "--workspace", str(workspace)])
    _, records = _json(capsys, ["audit", "show", "--workspace", str(workspace)])
    actions = [r["action"] for r in records]
    for expected in ("workspace.create", "ca.create", "plan.set", "cert.issue", "crl.publish"):
        assert expected in actions
    assert main(["audit", "verify", "--workspace", str(workspace)]) == 0
    lines = (workspace / "audit.jsonl").read_text().splitlines()
    lines[1] = lines[1].replace("ca.create", "ca.cre8te")
    (workspace / "audit.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["audit", "verify", "--workspace", str(workspace)]) == 1


def test_missing_passphrase_is_a_clean_error(workspace, capsys, monkeypatch):
    monkeypatch.delenv("WORKBENCH_CA_PASSPHRASE")
    capsys.readouterr()
    assert main(["issue", "--step", "cards-key", "--workspace", str(workspace)]) == 2
    err = capsys.readouterr().err
    assert "WORKBENCH_CA_PASSPHRASE" in err and "Traceback" not in err


def test_wrong_passphrase_is_refused(workspace, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", "not-the-passphrase")
    capsys.readouterr()
    assert main(["issue", "--step", "cards-key", "--workspace", str(workspace)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_unknown_step_and_missing_workspace_are_usage_errors(workspace, tmp_path, capsys):
    assert main(["issue", "--step", "no-such-key", "--workspace", str(workspace)]) == 2
    assert main(["status", "--workspace", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "workbench init" in err


def test_init_is_idempotent_and_keeps_the_ca(workspace, inventory, capsys):
    root = (workspace / "ca" / "root.crt").read_bytes()
    code, again = _json(capsys, ["init", str(inventory), "--workspace", str(workspace)])
    assert code == 0 and again["created_workspace"] is False and again["created_ca"] is False
    assert (workspace / "ca" / "root.crt").read_bytes() == root


def test_wave_verdict_passes_only_when_every_step_passes():
    from workbench.migration.verification import StepVerdict, wave_verdict

    def v(verdict):
        return StepVerdict("k", {"verdict": verdict}, "cut_over")

    assert wave_verdict([v("PASS"), v("PASS")]) == "PASS"
    assert wave_verdict([v("PASS"), v("INCONCLUSIVE")]) == "INCONCLUSIVE"
    assert wave_verdict([v("ERROR"), v("INCONCLUSIVE")]) == "ERROR"
    assert wave_verdict([v("INCONCLUSIVE"), v("FAIL"), v("PASS")]) == "FAIL"
    assert wave_verdict([]) == "ERROR"
