"""Drills through a manual gateway: the workbench writes the steps (which CRL file to install,
how to record it), waits for `workbench gateway applied --gateway G --change ID`, and
probes until the revoked certificate is refused or the deadline passes.

The operator's gateway is a real nginx with a config written by hand (no file the workbench
owns): the test plays the operator, following the written steps to the letter, in another
process than the drill's."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from drill_support import PASSPHRASE, call_with_cert, cert_files, run_json
from testkit import free_port

from workbench.cli import main
from workbench.gateway.proc import wait_until

pytestmark = pytest.mark.nginx

ORDERS_KEY = "ordersMANUALkey-0123456789abcdefABC"
WORKBENCH = Path(sys.executable).with_name("workbench")


class HandNginx:
    """The operator's nginx, configured by hand: it trusts the workspace CA, checks client
    certificates against ITS OWN copy of the CRLs, and lets CN=shop call /orders-api (and,
    in dual, anyone with the static key in X-API-Key)."""

    def __init__(self, root: Path, port: int, ca: Path, crl: Path, cert: Path, key: Path):
        self.prefix = root / "nginx"
        (self.prefix / "tmp").mkdir(parents=True)
        self.crl = self.prefix / "client-crl.pem"  # where this gateway reads its CRL
        shutil.copyfile(crl, self.crl)
        self.port, self.ca, self.cert, self.key = port, ca, cert, key
        self.conf = self.prefix / "nginx.conf"
        self.write_conf("dual")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.base = [nginx, "-p", str(self.prefix), "-c", str(self.conf), "-e", "stderr"]
        self.log = open(self.prefix / "stderr.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(self.base, stdout=self.log, stderr=self.log)
        wait_until(lambda: (self.prefix / "nginx.pid").exists(), timeout=10, what="nginx")

    def write_conf(self, mode: str) -> None:
        user = "user root;\n" if os.geteuid() == 0 else ""
        tmp = self.prefix / "tmp"
        port, ca, cert, key = self.port, self.ca, self.cert, self.key
        key_line = (
            f'      if ($http_x_api_key = "{ORDERS_KEY}") {{ set $ok "key"; }}\n'
            if mode == "dual"
            else ""
        )
        self.conf.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.prefix}/nginx.pid;\n"
            "error_log stderr warn;\nevents { worker_connections 64; }\nhttp {\n"
            f"  client_body_temp_path {tmp}/cb; proxy_temp_path {tmp}/p;\n"
            f"  fastcgi_temp_path {tmp}/f; uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;\n"
            "  access_log off;\n"
            "  server {\n"
            f"    listen 127.0.0.1:{port} ssl;\n"
            f"    ssl_certificate {cert}; ssl_certificate_key {key};\n"
            f"    ssl_client_certificate {ca}; ssl_verify_client optional;\n"
            f"    ssl_verify_depth 2; ssl_crl {self.crl};\n"
            "    location /orders-api/ {\n"
            '      set $ok "";\n'
            '      if ($ssl_client_s_dn ~ "CN=shop(,|$)") { set $ok "cert"; }\n'
            '      if ($ssl_client_verify != "SUCCESS") { set $ok ""; }\n'
            f"{key_line}"
            '      if ($ok = "") { return 403; }\n'
            '      return 200 "ok\\n";\n'
            "    }\n"
            "  }\n"
            "}\n"
        )

    def reload(self) -> None:
        subprocess.run([*self.base, "-t", "-q"], check=True, capture_output=True)
        subprocess.run([*self.base, "-s", "reload"], check=True, capture_output=True)

    def install_and_reload(self, crl: Path) -> None:
        """Steps 1 and 2 as an operator does them: copy, validate, reload."""
        shutil.copyfile(crl, self.crl)
        self.reload()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=15)
        self.log.close()


@pytest.fixture
def manual(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    (tmp_path / "keys").mkdir(mode=0o700)
    key_file = tmp_path / "keys" / "orders.key"
    key_file.write_text(ORDERS_KEY + "\n")
    key_file.chmod(0o600)
    port = free_port()
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"""version: 1
trust_domain: acme.test
apis:
  - {{id: orders-api, url: "https://127.0.0.1:{port}/orders-api", health_path: /health,
     data_classes: [pii], owner: team-orders, environment: prod}}
services:
  - {{id: shop, owner: team-shop, environment: prod, exposure: internet}}
keys:
  - {{id: orders-key, api: orders-api, secret_ref: "file:keys/orders.key"}}
integrations:
  - {{consumer: shop, key: orders-key}}
gateways:
  - {{id: legacy-edge, kind: manual, apis: [orders-api]}}
""")
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    assert main(["init", str(inv), *w]) == 0
    assert main(["issue", "--step", "orders-key", *w]) == 0
    assert main(["crl", *w]) == 0  # the CRLs the operator installed when setting nginx up
    # The operator's server certificate, from the workspace CA (the probes trust it).
    from workbench.migration import open_campaign
    from workbench.migration.issuance import issue_gateway_certificate

    with open_campaign(ws, passphrase=lambda: PASSPHRASE) as campaign:
        rec = issue_gateway_certificate(campaign)
    nginx = HandNginx(
        tmp_path,
        port,
        ws / "ca" / "chain.pem",
        ws / "crl" / "crl.pem",
        ws / (rec.chain_path or rec.cert_path),
        ws / rec.key_path,
    )
    try:
        # The overlap, applied by hand and recorded: certificates count on orders-api now.
        assert main(["gateway", "set-mode", "dual", "--step", "orders-key", *w]) == 0
        assert main(["gateway", "applied", "--step", "orders-key", "--mode", "dual", *w]) == 0
        capsys.readouterr()
        yield ws, port, nginx
    finally:
        nginx.stop()


@pytest.fixture
def start_drill():
    """Start ``workbench drill ... --json`` in its own process (as a person would in a
    terminal); whatever is still running at the end of the test is killed."""
    started: list[subprocess.Popen] = []

    def start(ws: Path, *args: str, deadline: int) -> tuple[subprocess.Popen, Path]:
        err = ws.parent / f"drill-{len(started)}.stderr"
        argv = [str(WORKBENCH), "drill", *args, "--json", "--deadline", str(deadline)]
        with open(err, "wb") as stderr:
            proc = subprocess.Popen(
                [*argv, "--workspace", str(ws)], stdout=subprocess.PIPE, stderr=stderr
            )
        started.append(proc)
        return proc, err

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _as_operator(argv: list[str]) -> subprocess.CompletedProcess:
    """Run a workbench command the way the operator does: another process, another shell."""
    done = subprocess.run(
        [str(WORKBENCH), *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


def _report(proc: subprocess.Popen, timeout: float) -> dict:
    """The drill's JSON report (stdout) once it exits."""
    out, _ = proc.communicate(timeout=timeout)
    return json.loads(out)


def _written_steps(ws: Path) -> Path:
    """The steps file the drill writes for the operator (polled: another process)."""
    found: list[Path] = []

    def written() -> bool:
        found[:] = sorted((ws / "manual" / "legacy-edge" / "changes").glob("crl-*.txt"))
        return bool(found) and found[-1].read_text().endswith("`\n")

    wait_until(written, timeout=30, what="the drill's steps for legacy-edge")
    return found[-1]


def _audit(ws: Path) -> list[tuple[str, str, dict]]:
    from workbench.workspace import Workspace

    with Workspace.open(ws) as w:
        return [(r.action, r.subject, r.details) for r in w.audit_records()]


def test_operator_follows_the_written_steps_and_the_drill_passes(manual, start_drill):
    ws, port, nginx = manual
    url = f"https://127.0.0.1:{port}/orders-api/health"
    ca = ws / "ca" / "chain.pem"
    chain, key, serial = cert_files(ws, "shop")
    assert call_with_cert(url, ca, chain, key) == "200"
    proc, err = start_drill(ws, "revoke", "--service", "shop", deadline=60)
    steps = _written_steps(ws)
    text = steps.read_text()
    # Which CRL to install, where it goes, how to check, and how to record it.
    source = Path(re.search(r"^1\. copy (\S+) ", text, re.M).group(1))
    assert source == (ws / "crl" / "crl.pem").resolve()
    assert "ssl_crl" in text and "reload" in text and url in text
    record = re.search(r"^4\. record it: `([^`]+)`$", text, re.M).group(1)
    assert record.startswith("workbench gateway applied --gateway legacy-edge --change crl-")
    # The CRL the drill published is not in force yet: the gateway still accepts.
    assert call_with_cert(url, ca, chain, key) == "200"
    nginx.install_and_reload(source)
    done = _as_operator([*shlex.split(record)[1:], "--json"])
    assert json.loads(done.stdout)["change"] == steps.stem
    doc = _report(proc, timeout=90)  # stdout is the one JSON document
    stderr = err.read_text()
    assert proc.returncode == 0, (doc["reasons"], stderr)
    assert record in stderr  # the steps went to stderr
    assert doc["verdict"] == "PASS" and doc["revoked"] == [serial]
    assert doc["crl_number"] == int(steps.stem.split("-")[1])
    [gw] = doc["gateways"]
    assert gw["id"] == "legacy-edge" and gw["kind"] == "manual" and gw["applied"]
    assert gw["change"] == steps.stem and gw["steps_file"] == str(steps)
    assert 0 < gw["applied_after_s"] < 60
    [entry] = doc["entry_points"]
    assert entry["entry_point"] == url and entry["refused"] and entry["gateway"] == "legacy-edge"
    assert entry["stable_s"] > 0
    assert call_with_cert(url, ca, chain, key) != "200"  # independently of the drill
    actions = [(a, s) for a, s, _ in _audit(ws)]
    i = actions.index(("drill.manual_steps", "legacy-edge"))
    assert actions.index(("gateway.applied", "legacy-edge")) > i
    assert actions[-1] == ("drill.revoke", "shop")
    assert main(["audit", "verify", "--workspace", str(ws)]) == 0


def test_operator_never_applies_the_drill_fails_at_the_deadline(manual, capsys):
    ws, port, _nginx = manual
    url = f"https://127.0.0.1:{port}/orders-api/health"
    started = time.monotonic()
    capsys.readouterr()
    argv = ["drill", "revoke", "--service", "shop", "--deadline", "3", "--workspace", str(ws)]
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert time.monotonic() - started >= 3  # it waited for the record until the deadline
    assert code == 1 and doc["verdict"] == "FAIL", doc
    failures = doc["failures"]
    assert any(
        r.startswith(url)
        and "gateway legacy-edge" in r
        and "did not refuse" in r
        and "ACCEPTED" in r
        for r in failures
    ), failures
    change = doc["gateways"][0]["change"]
    assert any(
        "legacy-edge (manual)" in r and f"--gateway legacy-edge --change {change}" in r
        for r in failures
    ), failures
    [gw] = doc["gateways"]
    assert not gw["applied"] and gw["applied_after_s"] is None
    [entry] = doc["entry_points"]
    assert not entry["refused"] and entry["last_outcome"] == "ACCEPTED" and entry["probes"] >= 2
    # The steps were written all the same (on stderr beside the JSON, and in the file), so
    # the operator can still do them and record them late.
    assert f"gateway applied --gateway legacy-edge --change {change}" in captured.err
    code, rec = run_json(
        capsys,
        [
            "gateway",
            "applied",
            "--gateway",
            "legacy-edge",
            "--change",
            change,
            "--workspace",
            str(ws),
        ],
    )
    assert code == 0 and rec["change"] == change
    # What a person reads (`drill show`): the change nobody recorded in time, the entry point.
    capsys.readouterr()
    assert main(["drill", "show", "--id", str(doc["id"]), "--workspace", str(ws)]) == 0
    shown = capsys.readouterr().out
    assert f"gateway legacy-edge (manual/manual): change {change} NOT recorded" in shown
    assert url in shown and "verdict: FAIL" in shown


def test_recorded_but_not_reloaded_fails_naming_the_entry_point(manual, start_drill):
    """The operator copies the CRL and records the change but never reloads: the record is
    not taken for the truth, the probes are."""
    ws, port, nginx = manual
    url = f"https://127.0.0.1:{port}/orders-api/health"
    proc, err = start_drill(ws, "revoke", "--service", "shop", deadline=4)
    steps = _written_steps(ws)
    source = Path(re.search(r"^1\. copy (\S+) ", steps.read_text(), re.M).group(1))
    shutil.copyfile(source, nginx.crl)  # copied, not reloaded
    record = re.search(r"`(workbench gateway applied [^`]+)`", steps.read_text()).group(1)
    _as_operator(shlex.split(record)[1:])
    doc = _report(proc, timeout=60)
    assert proc.returncode == 1, err.read_text()
    assert doc["verdict"] == "FAIL" and doc["gateways"][0]["applied"]
    assert any(
        r.startswith(url) and "did not refuse" in r and "ACCEPTED" in r for r in doc["failures"]
    ), doc["reasons"]
    assert not any("nobody recorded" in r for r in doc["failures"])


def test_gateway_applied_change_bad_input(manual, capsys):
    ws, _port, _nginx = manual
    w = ["--workspace", str(ws)]
    cases = [
        (["--gateway", "legacy-edge", "--change", "crl-99"], "unknown change 'crl-99'"),
        (["--gateway", "legacy-edgx", "--change", "crl-1"], "nearest: legacy-edge"),
        (["--gateway", "legacy-edge"], "either --step KEY --mode MODE"),
        (["--step", "orders-key", "--mode", "dual", "--change", "crl-1"], "either --step"),
    ]
    for args, expected in cases:
        capsys.readouterr()
        assert main(["gateway", "applied", *args, *w]) == 2, args
        err = capsys.readouterr().err.strip()
        assert expected in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    # The canary is not run on a manual gateway (a person would authorise it twice a run).
    for args, expected in [
        ([], "only APIs behind manual gateways accept certificates"),
        (["--api", "orders-api"], "API orders-api is behind a manual gateway"),
    ]:
        capsys.readouterr()
        assert main(["drill", "canary", *args, *w]) == 2, args
        err = capsys.readouterr().err.strip()
        assert expected in err and len(err.splitlines()) == 1, err
    # --json: the error is JSON on stderr, stdout stays empty
    code, out = run_json(capsys, ["gateway", "applied", "--gateway", "legacy-edge", *w])
    assert code == 2 and out is None


def test_kill_key_through_the_manual_gateway_waits_for_the_record(manual, start_drill):
    """kill-key writes the retirement as steps, waits for `gateway applied --step K --mode
    mtls`, and proves the key refused (two-sided: the certificate still works)."""
    ws, port, nginx = manual
    url = f"https://127.0.0.1:{port}/orders-api/health"
    proc, err = start_drill(ws, "kill-key", "--step", "orders-key", deadline=60)
    record = "gateway applied --step orders-key --mode mtls"
    wait_until(lambda: record in err.read_text(), timeout=30, what="the kill-key steps")
    assert record in (ws / "manual" / "legacy-edge" / "orders-api-mtls.txt").read_text()
    nginx.write_conf("mtls")  # the operator takes the key out of the config
    nginx.reload()
    _as_operator([*record.split(), "--workspace", str(ws)])
    doc = _report(proc, timeout=120)
    assert proc.returncode == 0 and doc["verdict"] == "PASS", (doc["reasons"], err.read_text())
    [gw] = doc["gateways"]
    assert gw["kind"] == "manual" and gw["applied"] and gw["applied_after_s"] > 0
    [entry] = doc["entry_points"]
    assert entry["entry_point"] == url and entry["refused"]
    assert doc["checks"]["verifier_verdict"] == "PASS"
    actions = [a for a, _, _ in _audit(ws)]
    assert actions.index("drill.manual_steps") < len(actions) - 1
