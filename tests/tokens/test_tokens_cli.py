"""`workbench token ...` through main([...]) and once through a real subprocess."""

import io
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tokens_support import forge, pem_cert, pem_private

from workbench.cli import main
from workbench.tokens import (
    access_token_hash,
    issue_bound_token,
    token_fingerprint,
    verify_client_assertion,
)
from workbench.tokens._jose import parse_unverified

AS = "https://127.0.0.1:8443/oauth"


def write(tmp_path, name, data, mode=0o600):
    path = tmp_path / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


@pytest.fixture
def key_file(tmp_path, ec_key):
    return write(tmp_path, "billing.key", pem_private(ec_key))


def fresh_token(ec_key, client_cert):
    import time

    return issue_bound_token(
        signing_key=ec_key,
        issuer=AS,
        subject="billing",
        audience="api",
        client_cert=client_cert,
        scope="a",
        lifetime=300,
        now=time.time(),
    )


def test_assertion_prints_a_verifiable_jwt(key_file, ec_key, capsys):
    assert (
        main(["token", "assertion", "--service", "billing", "--aud", AS, "--key", str(key_file)])
        == 0
    )
    out, err = capsys.readouterr()
    token = out.strip()
    _, claims = parse_unverified(token)
    verified = verify_client_assertion(
        token,
        client_public_key=ec_key.public_key(),
        audience=AS,
        now=claims["iat"],
        seen_jtis=set(),
    )
    assert verified["sub"] == "billing" and err == ""


def test_assertion_json_is_the_form(key_file, capsys):
    args = ["token", "assertion", "--service", "billing", "--aud", AS, "--key", str(key_file)]
    assert main([*args, "--json", "--lifetime", "30"]) == 0
    form = json.loads(capsys.readouterr().out)
    assert form["client_assertion_type"].endswith(":jwt-bearer")
    _, claims = parse_unverified(form["client_assertion"])
    assert claims["exp"] - claims["iat"] == 30


def test_assertion_weak_and_missing_keys_are_one_line_errors(tmp_path, capsys):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak_file = write(tmp_path, "weak.key", pem_private(weak))
    for path, message in (
        (weak_file, "RSA-1024 key refused"),
        (tmp_path / "nope.key", "cannot read"),
    ):
        code = main(["token", "assertion", "--service", "s", "--aud", AS, "--key", str(path)])
        err = capsys.readouterr().err.strip()
        assert code == 2
        assert err.startswith(f"{path}:0:0: ") and message in err and "\n" not in err


def test_group_readable_key_warns(tmp_path, ec_key, capsys):
    loose = write(tmp_path, "loose.key", pem_private(ec_key), mode=0o644)
    os.chmod(loose, 0o644)  # whatever the umask
    assert main(["token", "assertion", "--service", "s", "--aud", AS, "--key", str(loose)]) == 0
    assert "chmod 600" in capsys.readouterr().err


def test_dpop_with_access_token_from_env(key_file, monkeypatch, capsys):
    monkeypatch.setenv("WB_AT", "access-token-CANARY")
    args = ["token", "dpop", "--key", str(key_file), "--htm", "GET"]
    assert main([*args, "--htu", "https://h/x?q=1", "--access-token-env", "WB_AT", "--json"]) == 0
    out = capsys.readouterr().out
    assert "CANARY" not in out
    _, claims = parse_unverified(json.loads(out)["dpop"])
    assert claims["ath"] == access_token_hash("access-token-CANARY")
    assert claims["htu"] == "https://h/x"


def test_lint_good_token_from_env_json(tmp_path, ec_key, client_cert, monkeypatch, capsys):
    token = fresh_token(ec_key, client_cert)
    cert = write(tmp_path, "billing.crt", pem_cert(client_cert))
    monkeypatch.setenv("WB_TOKEN", token)
    assert main(["token", "lint", "--token-env", "WB_TOKEN", "--cert", str(cert), "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["ok"] is True and report["bound_to"] == "x5t#S256"
    assert report["token_fingerprint"] == token_fingerprint(token)
    assert token not in out and token.split(".")[2] not in out


def test_lint_mismatch_exit_1(tmp_path, ec_key, client_cert, other_cert, monkeypatch, capsys):
    cert = write(tmp_path, "other.crt", pem_cert(other_cert))
    monkeypatch.setattr(sys, "stdin", io.StringIO(fresh_token(ec_key, client_cert) + "\n"))
    assert main(["token", "lint", "-", "--cert", str(cert), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in report["findings"]] == ["cert-mismatch"]


def test_lint_alg_none_from_stdin_human_output(monkeypatch, capsys):
    token = forge({"alg": "none"}, {"sub": "x"}, b"CANARY-SIG")
    monkeypatch.setattr(sys, "stdin", io.StringIO(token))
    assert main(["token", "lint", "-"]) == 1
    out, err = capsys.readouterr()
    assert "alg-none" in out and token_fingerprint(token) in out
    assert token not in out + err and "CANARY" not in out + err


def test_lint_not_a_jwt_is_exit_2_one_line(capsys):
    assert main(["token", "lint", "CANARY-secret-value"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "CANARY" not in err and "Traceback" not in err
    assert err.strip() == "<argv>:1:1: not a compact JWT: expected 3 dot-separated parts, got 1"


@pytest.mark.parametrize(
    ("argv", "env"),
    [(["token", "lint"], None), (["token", "lint", "a.b.c", "--token-env", "WB_T"], "x.y.z")],
)
def test_lint_token_source_usage_errors(argv, env, monkeypatch, capsys):
    if env:
        monkeypatch.setenv("WB_T", env)
    assert main(argv) == 2
    assert "token" in capsys.readouterr().err


def test_lint_unset_env_var(monkeypatch, capsys):
    monkeypatch.delenv("WB_UNSET", raising=False)
    assert main(["token", "lint", "--token-env", "WB_UNSET"]) == 2
    assert capsys.readouterr().err.startswith("$WB_UNSET:0:0: ")


def test_token_without_subcommand_is_usage(capsys):
    assert main(["token"]) == 2
    assert "assertion" in capsys.readouterr().err


def test_real_subprocess_lint_from_stdin(ec_key, client_cert):
    token = fresh_token(ec_key, client_cert)
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "token", "lint", "-", "--json"],
        input=token,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["bound_to"] == "x5t#S256"
    assert token not in proc.stdout + proc.stderr
