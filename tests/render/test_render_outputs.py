"""What the rendered files contain: structure, headers, TLS settings, secrets, and the CLI."""

from __future__ import annotations

import base64
import json
import re
import stat
import subprocess
import sys

import pytest
import yaml
from render_support import OTHER_STEP, P12_PASSWORD, ROOT, STEP, open_test_campaign, run
from testkit import require

from workbench.cli import main
from workbench.errors import ConfigRenderError
from workbench.render import FORMATS, render_step

CONSUMERS = ("checkout-web", "mobile-bff", "billing-worker", "refund-worker")


def _files(world):
    return {f.path: f for f in world.rendered.files}


def test_every_format_is_written_for_every_consumer_and_the_gateway(world):
    base = world.rendered.directory
    assert base == (world.ws / "rendered" / STEP).resolve()
    written = {p.relative_to(base).as_posix() for p in _files(world)}
    for service in CONSUMERS:
        for fmt in (f for f in FORMATS.values() if f.kind == "client"):
            for out in fmt.outputs:
                assert f"clients/{service}/{out.filename}" in written
    for fmt in (f for f in FORMATS.values() if f.kind == "gateway"):
        for out in fmt.outputs:
            assert f"gateway/payments-api/{out.filename}" in written
    assert "manifest.json" in written and world.rendered.warnings == ()
    for path in written:
        assert (base / path).is_file()
    for d in [base, *(p for p in base.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_only_the_k8s_secret_holds_key_material_and_no_old_key_appears_anywhere(world):
    old_keys = [p.read_text().strip() for p in (world.tmp / "state" / "keys").iterdir()]
    assert len(old_keys) == 16
    key_pems = {s: world.cert_files(s)[1].read_bytes() for s in CONSUMERS}
    key_b64 = {s: base64.b64encode(k).decode() for s, k in key_pems.items()}
    for path, rf in _files(world).items():
        data = path.read_bytes()
        for value in [*old_keys, P12_PASSWORD]:
            assert value.encode() not in data, f"{path} holds a secret value"
        if path.name == "k8s-secret.yaml":
            assert rf.secret and stat.S_IMODE(path.stat().st_mode) == 0o600
            continue
        assert not rf.secret and stat.S_IMODE(path.stat().st_mode) == 0o644, path
        assert b"PRIVATE KEY" not in data, path
        for b64 in key_b64.values():
            assert b64[:40].encode() not in data, path


def test_k8s_secret_is_a_tls_secret_with_the_issued_material(world):
    path = world.client_dir("checkout-web") / "k8s-secret.yaml"
    text = path.read_text()
    assert "CONTAINS THE PRIVATE KEY" in text.split("apiVersion")[0]
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] == "v1" and doc["kind"] == "Secret"
    assert doc["type"] == "kubernetes.io/tls"
    chain, key = world.cert_files("checkout-web")
    assert base64.b64decode(doc["data"]["tls.crt"]) == chain.read_bytes()
    assert base64.b64decode(doc["data"]["tls.key"]) == key.read_bytes()
    assert base64.b64decode(doc["data"]["ca.crt"]) == (world.ws / "ca" / "root.crt").read_bytes()


def test_cert_manager_certificate_fields(world):
    doc = yaml.safe_load((world.client_dir("refund-worker") / "cert-manager.yaml").read_text())
    assert doc["apiVersion"] == "cert-manager.io/v1" and doc["kind"] == "Certificate"
    spec = doc["spec"]
    assert spec["uris"] == ["spiffe://acme.test/prod/refund-worker"]
    assert spec["usages"] == ["client auth", "digital signature"]
    assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    assert spec["duration"] == "168h" and spec["renewBefore"] == "56h"
    assert spec["issuerRef"]["kind"] == "ClusterIssuer" and spec["secretName"]


def test_istio_peer_authentication_per_phase(world):
    gw = world.rendered.directory / "gateway" / "payments-api"
    modes = {}
    for phase in ("dual", "mtls"):
        doc = yaml.safe_load((gw / f"istio-{phase}.yaml").read_text())
        assert doc["apiVersion"] == "security.istio.io/v1"
        assert doc["kind"] == "PeerAuthentication"
        assert doc["spec"]["selector"]["matchLabels"] == {"app": "payments-svc"}
        modes[phase] = doc["spec"]["mtls"]["mode"]
    assert modes == {"dual": "PERMISSIVE", "mtls": "STRICT"}


def _suites(text: str, directive: str) -> list[str]:
    return re.search(rf"{directive} ([^;\s]+)", text).group(1).split(":")


def test_gateway_tls_settings_follow_requirement_8(world):
    gw = world.rendered.directory / "gateway" / "payments-api"
    for name in ("nginx-dual.conf", "nginx-mtls.conf"):
        text = (gw / name).read_text()
        assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
        suites = _suites(text, "ssl_ciphers")
        assert suites and all(s.startswith("ECDHE-") and ("GCM" in s or "CHACHA20" in s)
                              for s in suites)  # fmt: skip
        code = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        assert "DHE-RSA" not in code.replace("ECDHE-RSA", "") and "CBC" not in code
        assert "TLSv1 " not in code and "TLSv1.1" not in code
        # What OpenSSL makes of the list: TLS 1.2 AEAD suites with ECDHE key exchange only.
        listed = run(["openssl", "ciphers", "-v", ":".join(suites)]).stdout.splitlines()
        assert listed and all(
            "Kx=ECDH" in ln and ("AESGCM" in ln or "CHACHA20" in ln) and "TLSv1.2" in ln
            for ln in listed
            if "TLSv1.3" not in ln
        )
    mtls = (gw / "nginx-mtls.conf").read_text()
    assert "ssl_verify_client on;" in mtls and f"ssl_crl {world.ws.resolve()}/crl/crl.pem" in mtls
    assert not re.search(r"^\s*include ", mtls, re.M)  # no key maps at cut-over
    assert "$http_x_api_key" not in mtls
    dual = (gw / "nginx-dual.conf").read_text()
    assert "ssl_verify_client optional;" in dual
    assert "include /etc/nginx/workbench/keys/pay-key-prod.map;" in dual


def test_haproxy_frontend_requires_certificates(world):
    text = (world.rendered.directory / "gateway" / "payments-api" / "haproxy.cfg").read_text()
    bind = next(line for line in text.splitlines() if line.strip().startswith("bind "))
    for token in ("ssl", "crt", "verify required", "ssl-min-ver TLSv1.2",
                  f"ca-file {world.ws.resolve()}/ca/chain.pem",
                  f"crl-file {world.ws.resolve()}/crl/crl.pem"):  # fmt: skip
        assert token in bind
    assert all(s.startswith("ECDHE-") for s in _suites(bind, "ciphers"))
    assert "ssl-default-bind-options ssl-min-ver TLSv1.2" in text
    assert "acl wb_allowed ssl_c_s_dn(CN) -m str checkout-web mobile-bff" in text
    assert "http-request deny deny_status 403 if wb_api !wb_allowed" in text
    haproxy = require("haproxy", "haproxy")
    proc = run([haproxy, "-c", "-f", str(world.rendered.directory / "gateway"
                                         / "payments-api" / "haproxy.cfg")])  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_go_and_env_and_node_files(world):
    d = world.client_dir("mobile-bff")
    chain, key = world.cert_files("mobile-bff")
    go = (d / "tls_config.go").read_text()
    for token in ("package workbenchtls", "tls.LoadX509KeyPair(CertChainFile, PrivateKeyFile)",
                  "RootCAs:", "MinVersion:   tls.VersionTLS12", f'"{key}"'):  # fmt: skip
        assert token in go
    env = dict(
        line.split("=", 1)
        for line in (d / "client.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert env["WORKBENCH_CLIENT_KEY"] == str(key) and env["WORKBENCH_CLIENT_CHAIN"] == str(chain)
    assert env["WORKBENCH_SPIFFE_ID"] == "spiffe://acme.test/prod/mobile-bff"
    proc = run([require("node", "nodejs"), "--check", str(d / "node-agent.js")])
    assert proc.returncode == 0, proc.stderr


def test_every_text_file_has_a_header_naming_step_service_and_certificate(world):
    with open_test_campaign(world.ws) as c:
        certs = {s: c.workspace.active_in_slot(STEP, s, "client")[0] for s in CONSUMERS}
    for path, rf in _files(world).items():
        if path.suffix == ".p12":
            continue
        head = path.read_text().split("\n", 6)
        if rf.kind == "manifest":
            assert STEP in json.loads(path.read_text())["_comment"]
            continue
        prefix = "//" if path.suffix in (".js", ".go") else "#"
        assert all(line.startswith(prefix) for line in head[:4]), path
        text = "\n".join(head[:4])
        assert f"step {STEP}" in text
        if rf.kind == "client":
            rec = certs[rf.subject]
            assert rf.subject in text and rec.serial in text
            assert rec.not_after.isoformat(timespec="seconds") in text
        else:
            assert "payments-api" in text and "Server certificate serial" in text


def test_truststore_holds_the_root_as_a_trusted_entry(world):
    ts = world.client_dir("checkout-web") / "truststore.p12"
    keytool = require("keytool", "default-jre-headless")
    proc = run([keytool, "-list", "-keystore", str(ts), "-storetype", "PKCS12",
                "-storepass", ""])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "trustedCertEntry" in proc.stdout and "PrivateKeyEntry" not in proc.stdout


def test_missing_keystore_skips_java_with_a_warning_and_bad_paths_write_nothing(world, tmp_path):
    with open_test_campaign(world.ws) as c:
        res = render_step(c, OTHER_STEP, formats="java,env", out_dir=tmp_path / "a",
                          now=world.now, durable=False)  # fmt: skip
        assert [f.format for f in res.files] == ["env", "manifest"]
        assert any("java skipped" in w for w in res.warnings)
        bad = tmp_path / "with space"
        with pytest.raises(ConfigRenderError) as exc:
            render_step(c, STEP, formats=["java", "curl"], out_dir=bad, now=world.now)
        assert "cannot carry" in str(exc.value)
        assert not bad.exists() or not any(bad.rglob("*.config"))


def test_unissued_step_is_a_clear_error(world):
    from workbench.errors import WorkbenchError

    with open_test_campaign(world.ws) as c, pytest.raises(WorkbenchError) as exc:
        render_step(c, "fraud-key", now=world.now)
    assert "workbench issue --step fraud-key" in str(exc.value)


# ---- CLI


def test_cli_renders_selected_formats_as_json(world, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(["render", "--step", STEP, "--workspace", str(world.ws), "--formats",
               "curl,istio", "-o", str(out), "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["step"] == STEP
    assert sorted({f["format"] for f in doc["files"]}) == ["curl", "istio", "manifest"]
    assert len(doc["files"]) == 4 + 2 + 1
    for f in doc["files"]:
        assert (out / f["path"]).exists() and f["path"].startswith(str(out.resolve()))


def test_cli_table_and_errors(world, capsys):
    rc = main(["render", "--step", STEP, "--workspace", str(world.ws), "--formats", "env"])
    assert rc == 0 and "client.env" in capsys.readouterr().out
    for argv in (
        ["render", "--step", STEP, "--workspace", str(world.ws), "--formats", "bogus"],
        ["render", "--workspace", str(world.ws)],
        ["render", "--step", "fraud-key", "--workspace", str(world.ws)],
        ["render", "--step", "no-such", "--workspace", str(world.ws)],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_cli_lists_formats_in_a_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "render", "--formats", "list", "--json"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [f["name"] for f in json.loads(proc.stdout)] == list(FORMATS)


def test_expired_certificates_are_flagged(world, tmp_path):
    from datetime import timedelta

    with open_test_campaign(world.ws) as c:
        res = render_step(c, STEP, formats="env", out_dir=tmp_path / "late",
                          now=world.now + timedelta(days=30), durable=False)  # fmt: skip
    assert sum("has expired" in w for w in res.warnings) == len(CONSUMERS)
