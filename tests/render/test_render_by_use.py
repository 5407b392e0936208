"""Rendered configs proven by use against the real sample environment (mtls on payments-api).

Negative controls run next to each positive one, so a 200 cannot come from a gateway that
lets everything through.
"""

from __future__ import annotations

import json

import httpx
import pytest
from render_support import STEP, Nginx, run, venv_python
from testkit import free_port, require


def _health(world) -> str:
    return f"https://127.0.0.1:{world.port}/payments-api/health"


def test_gateway_refuses_without_a_certificate(world):
    """Control: the python gateway really is in mtls mode for payments-api."""
    with httpx.Client(verify=world.context(), timeout=10) as client:
        assert client.get(_health(world)).status_code == 401
        r = client.get(_health(world), headers={"X-API-Key": world.old_key()})
        assert r.status_code == 401


@pytest.mark.parametrize("service", ["checkout-web", "refund-worker"])
def test_httpx_snippet_gets_200(world, service):
    proc = venv_python(world.client_dir(service) / "httpx_client.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("200 ")


def test_requests_snippet_gets_200(world):
    proc = venv_python(world.client_dir("billing-worker") / "requests_client.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("200 ")


def test_curl_config_gets_200_and_identifies_the_caller(world):
    cfg = world.client_dir("mobile-bff") / "curl.config"
    proc = run(["/usr/bin/curl", "-K", str(cfg), "-w", "\n%{http_code}"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("200")
    data_url = f"https://127.0.0.1:{world.port}/payments-api/data"
    proc = run(["/usr/bin/curl", "-K", str(cfg), data_url])
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout.strip().splitlines()[-1])
    assert body["caller"] == "spiffe://acme.test/prod/mobile-bff" and body["auth"] == "cert"


def test_node_agent_module_gets_200(world):
    node = require("node", "nodejs")
    module = world.client_dir("checkout-web") / "node-agent.js"
    script = (
        "const https = require('https'); const m = require(process.argv[1]);"
        "https.get(m.healthUrl, { agent: m.agent }, (res) => {"
        " console.log(res.statusCode); res.resume(); m.agent.destroy(); })"
        ".on('error', (e) => { console.error(e.message); process.exit(3); });"
    )
    proc = run([node, "-e", script, str(module)])
    assert proc.returncode == 0 and proc.stdout.strip() == "200", proc.stdout + proc.stderr


JAVA_PROBE = """
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Probe {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newHttpClient();  // default SSLContext: javax.net.ssl.*
        HttpRequest req = HttpRequest.newBuilder(URI.create(args[0])).build();
        System.out.println(client.send(req, HttpResponse.BodyHandlers.ofString()).statusCode());
    }
}
"""


def test_java_flags_and_truststore_get_200(world, tmp_path):
    require("java", "default-jre-headless")
    probe = tmp_path / "Probe.java"
    probe.write_text(JAVA_PROBE)
    flags = world.client_dir("checkout-web") / "java-tls.sh"
    # HttpClient disables hostname checks for IP literals only via this property; the
    # gateway certificate has an IP SAN 127.0.0.1 so verification stays on.
    cmd = f'. "{flags}" && exec java "{probe}" "{_health(world)}"'
    from render_support import P12_PASSWORD

    proc = run(
        ["bash", "-c", cmd], env={"PATH": "/usr/bin:/bin", "WORKBENCH_P12_PASSWORD": P12_PASSWORD}
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "200"
    # Without the password the flags file refuses to load instead of running without a key.
    proc = run(["bash", "-c", f'. "{flags}"'], env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0 and "WORKBENCH_P12_PASSWORD" in proc.stderr


@pytest.mark.nginx
def test_nginx_egress_block_proxies_with_the_certificate(world, tmp_path):
    port = free_port()
    egress = world.client_dir("billing-worker") / "nginx-egress.conf"
    nginx = Nginx(tmp_path / "egress", f"    server {{\n        listen 127.0.0.1:{port};\n"
                                         f"        include {egress};\n    }}")  # fmt: skip
    checked = nginx.test()
    assert checked.returncode == 0, checked.stderr
    nginx.start(port)
    try:
        with httpx.Client(timeout=10) as client:
            r = client.get(f"http://127.0.0.1:{port}/payments-api/data")
            assert r.status_code == 200, nginx.stop()
            assert r.json()["caller"] == "spiffe://acme.test/prod/billing-worker"
            # The old key header is stripped on the way out: the gateway sees the cert only.
            r = client.get(f"http://127.0.0.1:{port}/payments-api/data",
                           headers={"X-API-Key": "x" * 20})  # fmt: skip
            assert r.status_code == 200 and r.json()["auth"] == "cert"
    finally:
        nginx.stop()


def _rendered_gateway(world, tmp_path, phase: str, port: int, key_map_dir=None):
    from render_support import open_test_campaign

    from workbench.render import render_step

    with open_test_campaign(world.ws) as c:
        result = render_step(
            c, STEP, formats=["nginx-gateway"], out_dir=tmp_path / "out", now=world.now,
            upstream=world.backend_url, listen=f"127.0.0.1:{port}", key_map_dir=key_map_dir,
            durable=False,
        )  # fmt: skip
    return result.directory / "gateway" / "payments-api" / f"nginx-{phase}.conf"


@pytest.mark.nginx
def test_nginx_gateway_mtls_config_accepts_the_cert_and_refuses_the_rest(world, tmp_path):
    port = free_port()
    conf = _rendered_gateway(world, tmp_path, "mtls", port)
    nginx = Nginx(tmp_path / "gw", f"    include {conf};")
    checked = nginx.test()
    assert checked.returncode == 0, checked.stderr
    nginx.start(port)
    url = f"https://127.0.0.1:{port}/payments-api/data"
    try:
        with httpx.Client(verify=world.context("checkout-web"), timeout=10) as client:
            r = client.get(url)
            assert r.status_code == 200, r.text
            assert r.json()["caller"] == "checkout-web"  # the CN nginx forwards
        with httpx.Client(verify=world.context(), timeout=10) as client:
            r = client.get(url, headers={"X-API-Key": world.old_key()})
            assert r.status_code == 403, "old key alone must be refused"
        with httpx.Client(verify=world.context("payments-svc", "cards-key"), timeout=10) as client:
            r = client.get(url)
            assert r.status_code == 403, "a valid certificate of another service is refused"
    finally:
        nginx.stop()


@pytest.mark.nginx
def test_nginx_gateway_dual_config_accepts_key_or_cert(world, tmp_path):
    port = free_port()
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    for key_id in ("pay-key-prod", "fraud-key"):
        (keys / f"{key_id}.map").write_text(f'"{world.old_key(key_id)}" 1;\n')
    conf = _rendered_gateway(world, tmp_path, "dual", port, key_map_dir=str(keys))
    assert world.old_key() not in conf.read_text()
    nginx = Nginx(tmp_path / "gw", f"    include {conf};")
    checked = nginx.test()
    assert checked.returncode == 0, checked.stderr
    nginx.start(port)
    url = f"https://127.0.0.1:{port}/payments-api/data"
    try:
        with httpx.Client(verify=world.context(), timeout=10) as client:
            r = client.get(url, headers={"X-API-Key": world.old_key()})
            assert r.status_code == 200 and r.json()["auth"] == "key"
            assert client.get(url).status_code == 401
            assert client.get(url, headers={"X-API-Key": "z" * 30}).status_code == 401
        with httpx.Client(verify=world.context("refund-worker"), timeout=10) as client:
            r = client.get(url)
            assert r.status_code == 200 and r.json()["auth"] == "cert"
    finally:
        nginx.stop()
