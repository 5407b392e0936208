"""``workbench verify`` standalone CLI, with a canary old key grepped from every output."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
from verify_pki import OLD_KEY

from workbench.cli import main

FP = hashlib.sha256(OLD_KEY.encode()).hexdigest()[:12]


def argv(pki, url, *extra):
    return [
        "verify",
        url,
        "--header",
        "X-API-Key",
        "--old-key-env",
        "WB_TEST_OLD_KEY",
        "--cert",
        str(pki.new.chain),
        "--key",
        str(pki.new.key),
        "--ca",
        str(pki.ca),
        "--timeout",
        "3",
        *extra,
    ]


@pytest.fixture
def canary_env(monkeypatch):
    monkeypatch.setenv("WB_TEST_OLD_KEY", OLD_KEY)


def test_pass_table_exit_0(pki, serve, canary_env, capsys):
    srv = serve("correct")
    extra = ["--foreign-cert", str(pki.foreign.chain), "--foreign-key", str(pki.foreign.key)]
    assert main(argv(pki, srv.url, *extra)) == 0
    out, err = capsys.readouterr()
    assert "verdict: PASS" in out
    for name in ("positive-control", "old-key-only", "no-credentials", "foreign-ca-cert"):
        assert name in out
    assert OLD_KEY not in out + err
    # It did reach the server: GET and POST x 5, then the corners that carry the declared
    # header and let the server read the key first (see test_verify_matrix.py).
    assert srv.log.keys_seen.count(OLD_KEY) == 10 + 2 * 2 + 4 + 1 + 4
    assert "not confirmed as live" in out  # standalone: no before-observation


@pytest.mark.parametrize(
    ("mode", "verdict"), [("accept_old_key", "FAIL"), ("echo_key", "INCONCLUSIVE")]
)
def test_json_non_pass_exit_1_and_no_canary(pki, serve, canary_env, capsys, mode, verdict):
    srv = serve(mode)
    assert main(argv(pki, srv.url, "--json")) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["verdict"] == verdict
    assert set(doc) >= {"verdict", "probes", "reasons"}
    for probe in doc["probes"]:
        assert set(probe) == {"name", "expected", "observed", "outcome", "evidence"}
        assert "body" not in probe["evidence"]
        for field in ("url", "ip", "sni", "tls_version", "elapsed_ms", "identity"):
            assert field in probe["evidence"]
    assert OLD_KEY not in out + err
    old = next(p for p in doc["probes"] if p["name"] == "old-key-only")
    assert old["evidence"]["identity"] == f"old key fp={FP}"
    if mode == "echo_key":  # the server put the key into Location: only the fp survives
        assert FP in old["evidence"]["location"]


def test_unreachable_is_exit_1(pki, closed_port, canary_env, capsys):
    assert main(argv(pki, f"https://127.0.0.1:{closed_port}/health")) == 1
    assert "verdict: ERROR" in capsys.readouterr().out


def test_missing_env_var_is_usage_error_naming_the_variable(pki, monkeypatch, capsys):
    monkeypatch.delenv("WB_TEST_OLD_KEY", raising=False)
    assert main(argv(pki, "https://127.0.0.1:1/health")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "WB_TEST_OLD_KEY" in err[0] and "Traceback" not in err[0]


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],
        ["verify", "https://127.0.0.1:1/", "--old-key-env", "X"],
        ["verify", "http://127.0.0.1:1/"],
    ],
)
def test_bad_usage_exit_2(args, pki, canary_env, capsys):
    if args[-1].startswith("http://"):
        args = argv(pki, args[-1])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unreadable_cert_is_usage_error(pki, canary_env, capsys, tmp_path):
    args = argv(pki, "https://127.0.0.1:1/health")
    args[args.index("--cert") + 1] = str(tmp_path / "missing.pem")
    assert main(args) == 2
    assert "missing.pem" in capsys.readouterr().err


def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["verify", "--help"])
    assert info.value.code == 0
    assert "--old-key-env" in capsys.readouterr().out


def test_real_subprocess_canary(pki, serve):
    srv = serve("accept_old_key")
    env = dict(os.environ, WB_TEST_OLD_KEY=OLD_KEY)
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", *argv(pki, srv.url, "--json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "FAIL"
    assert OLD_KEY not in proc.stdout + proc.stderr
    assert FP in proc.stdout
