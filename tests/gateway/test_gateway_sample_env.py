"""Sample environment lifecycle, the CLI, and the pure parts (decision table, spec, usage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gateway_support import ensure_gateway_available, gateway_param
from test_gateway_modes import make_inventory
from testkit import free_port

from workbench.cli import main
from workbench.errors import GatewayError
from workbench.gateway import GatewaySpec, Route, read_usage
from workbench.gateway.authz import PeerCert, decide
from workbench.gateway.nginx import render_nginx
from workbench.gateway.proc import children_of, pid_alive
from workbench.lab import SampleEnv

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", [gateway_param("python"), gateway_param("nginx")])
def test_up_is_idempotent_and_down_leaves_no_process(kind, pki, tmp_path):
    ensure_gateway_available(kind)
    env = SampleEnv(
        make_inventory(), tmp_path / "state", gateway=kind, port=free_port(), inventory_dir=tmp_path
    )
    first = env.up(pki.server_cert, pki.server_key, pki.ca_bundle)
    try:
        assert first.running
        workers = children_of(first.gateway_pid)
        second = env.up(pki.server_cert, pki.server_key, pki.ca_bundle)
        assert (second.gateway_pid, second.backend_pid) == (first.gateway_pid, first.backend_pid)
        if kind == "nginx":
            assert workers, "nginx master has workers"
    finally:
        stopped = env.down()
    assert sorted(stopped) == sorted([first.gateway_pid, first.backend_pid])
    for pid in [first.gateway_pid, first.backend_pid, *workers]:
        assert not pid_alive(pid), f"process {pid} left behind"
    assert not (env.state_dir / "backend.pid").exists()
    assert not (env.state_dir / "gateway" / "gateway.pid").exists()
    assert not env.status().running
    assert env.down() == []  # down twice is fine


def test_stale_pid_files_are_ignored_and_removed(pki, tmp_path):
    env = SampleEnv(make_inventory(), tmp_path / "state", port=free_port(), inventory_dir=tmp_path)
    env.state_dir.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (env.state_dir / "backend.pid").write_text(f"{dead.pid}\n")
    # A live PID that is not ours (this test process) must not be taken for the backend.
    (env.state_dir / "gateway").mkdir()
    st = env.status()
    assert st.backend_pid is None and not (env.state_dir / "backend.pid").exists()
    (env.state_dir / "backend.pid").write_text(f"{os.getpid()}\n")
    assert env.status().backend_pid is None
    assert env.down() == []  # never signals a PID it does not own


# ---- CLI


def test_cli_up_status_down_json(pki, tmp_path, capsys):
    inv = tmp_path / "inventory.yaml"
    inv.write_text((REPO / "sample_env" / "inventory.yaml").read_text())
    port = str(free_port())
    common = ["--inventory", str(inv), "--json"]
    rc = main(
        ["sample-env", "up", *common, "--port", port, "--server-cert", str(pki.server_cert),
         "--server-key", str(pki.server_key), "--client-ca", str(pki.ca_bundle)]
    )  # fmt: skip
    up = json.loads(capsys.readouterr().out)
    try:
        assert rc == 0 and up["running"] and up["port"] == int(port)
        assert len(up["modes"]) == 11 and set(up["modes"].values()) == {"key"}
        assert len(list((tmp_path / "state" / "keys").iterdir())) == 16
        assert main(["sample-env", "status", *common]) == 0
        assert json.loads(capsys.readouterr().out)["gateway_pid"] == up["gateway_pid"]
    finally:
        assert main(["sample-env", "down", *common]) == 0
    assert sorted(json.loads(capsys.readouterr().out)["stopped"]) == sorted(
        [up["gateway_pid"], up["backend_pid"]]
    )
    assert main(["sample-env", "status", *common]) == 1


def test_cli_up_without_certs_is_a_one_line_usage_error(tmp_path, capsys):
    rc = main(["sample-env", "up", "--inventory", str(REPO / "sample_env" / "inventory.yaml")])
    err = capsys.readouterr().err
    assert rc == 2 and "--server-cert" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_help_in_a_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "sample-env", "up", "--help"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and "--gateway" in proc.stdout


# ---- pure parts

ROUTE = dict(api_id="a", path_prefix="/a", allowed_identities=("spiffe://acme.test/prod/svc",))
KEYS = {"k" * 20: "fp0000000001"}
GOOD = PeerCert(("spiffe://acme.test/prod/svc",), "svc")
OTHER = PeerCert(("spiffe://acme.test/prod/x",), "x")


@pytest.mark.parametrize(
    ("mode", "peer", "key", "expected"),
    [
        ("key", None, "k" * 20, (0, "key", "fp0000000001")),
        ("key", GOOD, None, (401, "none", "")),
        ("key", None, "wrong" * 4, (401, "none", "")),
        ("dual", GOOD, None, (0, "cert", "spiffe://acme.test/prod/svc")),
        ("dual", OTHER, "k" * 20, (0, "key", "fp0000000001")),
        ("dual", OTHER, None, (403, "none", "cn:x")),
        ("dual", None, None, (401, "none", "")),
        ("mtls", GOOD, "k" * 20, (0, "cert", "spiffe://acme.test/prod/svc")),
        ("mtls", None, "k" * 20, (401, "none", "fp0000000001")),
        ("mtls", OTHER, None, (403, "none", "cn:x")),
        ("mtls", PeerCert(("spiffe://acme.test/prod/svc",), "x"), None, (403, "none", "cn:x")),
        (
            "mtls",
            PeerCert(("spiffe://acme.test/prod/svc", "spiffe://e/x"), "svc"),
            None,
            (403, "none", "cn:svc"),
        ),
    ],
)
def test_decision_table(mode, peer, key, expected):
    d = decide(Route(mode=mode, **ROUTE), peer=peer, presented_key=key, keys=KEYS)
    assert (d.status, d.auth, d.identity) == expected


def _spec(tmp_path: Path, key_value: str) -> GatewaySpec:
    kf = tmp_path / "k.key"
    kf.write_text(key_value)
    return GatewaySpec(
        port=9443, server_cert="/s.crt", server_key="/s.key", client_ca_bundle="/ca.pem",
        routes=(Route(mode="dual", key_files=(str(kf),), **ROUTE),),
        backend_url="http://127.0.0.1:9000", access_log="/a.log", state_dir=str(tmp_path),
    )  # fmt: skip


def test_spec_round_trips_and_rejects_bad_input(tmp_path):
    spec = _spec(tmp_path, "v" * 30)
    assert GatewaySpec.from_json(spec.to_json()) == spec
    assert spec.with_mode("a", "mtls").route("a").mode == "mtls"
    with pytest.raises(GatewayError):
        spec.with_mode("a", "open")
    with pytest.raises(GatewayError):
        Route(api_id="a", path_prefix="/a/../b", mode="key")  # no dot segments
    with pytest.raises(GatewayError):
        Route(api_id="a", path_prefix='/a"; evil', mode="key")
    with pytest.raises(GatewayError):
        Route(api_id="../x", path_prefix="/../x", mode="key")


def test_nginx_render_refuses_unsafe_key_values_without_echoing_them(tmp_path):
    canary = 'canary"; evil $x'
    with pytest.raises(GatewayError) as exc:
        render_nginx(_spec(tmp_path, canary), prefix=tmp_path)
    assert "canary" not in str(exc.value) and "k.key" in str(exc.value)
    rendered = render_nginx(_spec(tmp_path, "v" * 30), prefix=tmp_path)
    assert "v" * 30 not in str(rendered) and "v" * 30 not in repr(rendered)
    text = rendered.content.decode()
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
    suites = text.split("ssl_ciphers ", 1)[1].split(";", 1)[0].split(":")
    assert suites and all(
        s.startswith("ECDHE-") and ("GCM" in s or "CHACHA20" in s) for s in suites
    )


def test_read_usage_filters_by_time_api_and_fingerprint(tmp_path):
    log = tmp_path / "access.log"

    def line(day, hour, api, status, auth, ident, ip, ua=""):
        t = f"2026-01-0{day}T{hour}:00:00+00:00"
        return {"time": t, "api": api, "status": status, "auth": auth, "identity": ident,
                "client_ip": ip, "user_agent": ua}  # fmt: skip

    lines = [
        line(1, 10, "a", 200, "key", "fp1", "10.0.0.1", "x"),
        line(2, 10, "a", 200, "key", "fp1", "10.0.0.2", "y"),
        line(3, 10, "a", 401, "none", "fp1", "10.0.0.2"),
        line(3, 11, "b", 200, "key", "fp2", "10.0.0.3"),
    ]
    log.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    r = read_usage(log, key_fingerprint="fp1")
    assert (r.requests, r.accepted, r.refused, r.skipped_lines) == (3, 2, 1, 1)
    assert r.client_ips == ("10.0.0.2", "10.0.0.1")
    assert r.last_accepted == datetime(2026, 1, 2, 10, tzinfo=UTC)
    r = read_usage(log, key_fingerprint="fp1", since=datetime(2026, 1, 2, 12, tzinfo=UTC))
    assert (r.accepted, r.refused, r.still_used) == (0, 1, False)
    assert read_usage(log, api="b").requests == 1
    with pytest.raises(GatewayError):
        read_usage(tmp_path / "missing.log")
