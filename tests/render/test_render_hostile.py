"""Requirement 27: a hostile-but-valid inventory renders configs with no directive of its own.

Two workspaces are rendered: one from a plain inventory, one whose URL and health path
carry every character RFC 3986 allows that means something in nginx, HAProxy or a shell
(``; ' $ ( ) & * + , = ! @``). Both must pass the real ``nginx -t``, ``haproxy -c`` and
``bash -n``; their directive skeletons (nginx statements, HAProxy keywords, YAML keys, what
a sourced shell file sets) must be identical, and the hostile values must read back intact.
Control characters never get that far: the loader refuses them on the raw value.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from render_support import PASSPHRASE, ensure_nginx, open_test_campaign, run
from testkit import require

from workbench.errors import InventoryError
from workbench.inventory import loads_inventory

STEP = "pay-key"
P12 = "hostile-p12-password"
MARK = "/tmp/wb-hostile-marker"
HOSTILE_PATH = "/pay-api;return'200'$(touch%20" + MARK + ")&x=1,y*+!@:"
HOSTILE_HEALTH = "/health?a=';touch$IFS" + MARK + ";'&b=$(touch$IFS" + MARK + ")"

INVENTORY = """\
version: 1
trust_domain: acme.test
apis:
  - id: pay-api
    url: "https://127.0.0.1:18443{path}"
    health_path: "{health}"
    data_classes: [pci]
    owner: team-pay
    environment: prod
    provided_by: pay-svc
services:
  - {{id: pay-svc, owner: team-pay, environment: prod, exposure: internal}}
  - {{id: shop-web, owner: team-web, environment: prod, exposure: internet}}
keys:
  - {{id: pay-key, api: pay-api, header: X-API-Key, secret_ref: "env:PAY_KEY"}}
integrations:
  - {{consumer: shop-web, key: pay-key}}
"""


def _render(tmp: Path, name: str, path: str, health: str):
    from workbench.cli import main
    from workbench.migration import issue_gateway_certificate, issue_step, publish_crls
    from workbench.render import render_step

    base = tmp / name
    base.mkdir()
    inv = base / "inventory.yaml"
    inv.write_text(INVENTORY.format(path=path, health=health))
    ws = base / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
        assert main(["inventory", "check", str(inv)]) in (0, 1)  # valid (findings allowed)
        assert main(["init", str(inv), "--workspace", str(ws)]) == 0
    keys = base / "keys"
    keys.mkdir()
    (keys / f"{STEP}.map").write_text("")
    with open_test_campaign(ws) as c:
        issue_step(c, STEP, p12_password=P12, durable=False)
        issue_gateway_certificate(c)
        publish_crls(c)
        return render_step(
            c, STEP, now=datetime.now(UTC), key_map_dir=str(keys), durable=False
        ).directory


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    Path(MARK).unlink(missing_ok=True)
    plain = _render(tmp, "plain", "/pay-api", "/health")
    hostile = _render(tmp, "hostile", HOSTILE_PATH, HOSTILE_HEALTH)
    return tmp, plain, hostile


# --- tiny lexers: statements as the real parsers split them -------------------------------


def _nginx_statements(text: str) -> list[tuple[int, list[str]]]:
    """(depth, words) per nginx statement; quotes and escapes as nginx reads them."""
    out, words, depth, i = [], [], 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            i = text.index("\n", i) if "\n" in text[i:] else len(text)
        elif ch.isspace():
            i += 1
        elif ch in "\"'":
            j, word = i + 1, ""
            while text[j] != ch:
                if text[j] == "\\":
                    j += 1
                word += text[j]
                j += 1
            words.append(word)
            i = j + 1
        elif ch in ";{}":
            if words or ch != "}":
                out.append((depth, [*words, ch]))
            words = []
            depth += {"{": 1, "}": -1}.get(ch, 0)
            i += 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in ";{}\"'":
                j += 1
            words.append(text[i:j])
            i = j
    assert depth == 0 and not words, "unbalanced nginx config"
    return out


def _haproxy_lines(text: str) -> list[list[str]]:
    """Words per HAProxy line (quotes, backslash escapes, # comments)."""
    out = []
    for line in text.splitlines():
        words, word, quote, i, started = [], "", None, 0, False
        while i < len(line):
            ch = line[i]
            if quote:
                if ch == quote:
                    quote = None
                elif ch == "\\" and quote == '"':
                    i += 1
                    word += line[i]
                else:
                    word += ch
            elif ch in "\"'":
                quote, started = ch, True
            elif ch == "\\":
                i += 1
                word += line[i]
                started = True
            elif ch == "#":
                break
            elif ch.isspace():
                if started:
                    words.append(word)
                word, started = "", False
            else:
                word += ch
                started = True
            i += 1
        assert quote is None, f"unterminated quote: {line}"
        if started:
            words.append(word)
        if words:
            out.append(words)
    return out


def _skeleton(words: list[str]) -> tuple[str, int]:
    return words[0], len(words)


# --- the tests -------------------------------------------------------------------------------


def test_the_hostile_inventory_is_valid_and_control_characters_are_not():
    loads_inventory(INVENTORY.format(path=HOSTILE_PATH, health=HOSTILE_HEALTH), "h.yaml")
    for bad in ("\\n", "\\r", "\\t", "\\x0b", "\\u2028", "\\x1b"):
        text = INVENTORY.format(path="/pay-api" + bad + "server { listen 1; }", health="/h")
        with pytest.raises(InventoryError, match="url contains control or invisible"):
            loads_inventory(text, "h.yaml")
        text = INVENTORY.format(path="/pay-api", health="/health" + bad + "touch /tmp/x")
        with pytest.raises(InventoryError, match="health_path contains control or invisible"):
            loads_inventory(text, "h.yaml")


@pytest.mark.parametrize("name", ["nginx-dual.conf", "nginx-mtls.conf"])
def test_nginx_gateway_configs_pass_nginx_t_with_the_same_statements(pair, name):
    tmp, plain, hostile = pair
    texts = [(d / "gateway" / "pay-api" / name).read_text() for d in (plain, hostile)]
    skeletons = [[(d, _skeleton(w)) for d, w in _nginx_statements(t)] for t in texts]
    assert skeletons[0] == skeletons[1]
    _nginx_t(tmp / f"ngx-{name}", texts[1])


def test_nginx_egress_passes_nginx_t_and_proxies_to_the_hostile_url_intact(pair):
    tmp, plain, hostile = pair
    texts = [(d / "clients" / "shop-web" / "nginx-egress.conf").read_text() for d in pair[1:]]
    statements = [_nginx_statements(t) for t in texts]
    assert [(d, _skeleton(w)) for d, w in statements[0]] == [
        (d, _skeleton(w)) for d, w in statements[1]
    ]
    proxy_pass = next(w for _, w in statements[1] if w[0] == "proxy_pass")
    # nginx has no escape for "$": it travels percent-encoded, the rest as written
    assert proxy_pass[1] == "https://127.0.0.1:18443" + HOSTILE_PATH.replace("$", "%24") + "/"
    _nginx_t(tmp / "ngx-egress", "server {\n listen 127.0.0.1:18999;\n" + texts[1] + "}\n")


def test_haproxy_config_passes_haproxy_c_with_the_same_keywords(pair, tmp_path):
    require("haproxy", "haproxy")
    _, plain, hostile = pair
    texts = [(d / "gateway" / "pay-api" / "haproxy.cfg").read_text() for d in (plain, hostile)]
    assert [_skeleton(w) for w in _haproxy_lines(texts[0])] == [
        _skeleton(w) for w in _haproxy_lines(texts[1])
    ]
    text = texts[1]
    crt = re.search(r" crt (\S+)", text).group(1).strip("'\"")
    if not Path(crt).exists():  # the operator builds chain+key into one file (not rendered)
        ws = hostile.parents[1]
        combined = tmp_path / "server.pem"
        with open_test_campaign(ws) as c:
            from workbench.migration.issuance import GATEWAY_SERVICE

            rec = c.workspace.active_in_slot(None, GATEWAY_SERVICE, "server")[0]
        combined.write_bytes((ws / rec.chain_path).read_bytes() + (ws / rec.key_path).read_bytes())
        text = text.replace(crt, str(combined))
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    proc = run(["haproxy", "-c", "-f", str(cfg)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shell_files_parse_and_sourcing_them_runs_nothing(pair, tmp_path):
    _, plain, hostile = pair
    client = hostile / "clients" / "shop-web"
    for name in ("client.env", "java-tls.sh"):
        proc = run(["bash", "-n", str(client / name)])
        assert proc.returncode == 0, proc.stderr
    script = (
        f"export WORKBENCH_P12_PASSWORD={P12}; set -a; . ./client.env; set +a; . ./java-tls.sh; "
        'printf "%s\\n" "$WORKBENCH_HEALTH_URL" "$WORKBENCH_API_URL" "$JAVA_TOOL_OPTIONS"'
    )
    proc = subprocess.run(
        ["bash", "-c", script], cwd=client, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    health, api, java = proc.stdout.splitlines()
    assert api == "https://127.0.0.1:18443" + HOSTILE_PATH
    assert health == api + HOSTILE_HEALTH
    assert java.startswith("-Djavax.net.ssl.keyStore=/")
    assert not os.path.exists(MARK), "sourcing a rendered file ran a command"


YAML_FILES = (
    "clients/shop-web/cert-manager.yaml",
    "clients/shop-web/k8s-secret.yaml",
    "gateway/pay-api/istio-dual.yaml",
    "gateway/pay-api/istio-mtls.yaml",
)


def test_yaml_code_and_curl_files_read_back_the_values_unchanged(pair):
    _, plain, hostile = pair
    api = "https://127.0.0.1:18443" + HOSTILE_PATH
    for d in (plain, hostile):
        for rel in YAML_FILES:
            doc = yaml.safe_load((d / rel).read_text())
            assert isinstance(doc, dict) and {"apiVersion", "kind", "metadata"} <= doc.keys()
    for name in ("httpx_client.py", "requests_client.py"):
        tree = ast.parse((hostile / "clients" / "shop-web" / name).read_text())
        consts = {
            t.targets[0].id: t.value.value
            for t in tree.body
            if isinstance(t, ast.Assign) and isinstance(t.value, ast.Constant)
        }
        assert consts["URL"] == api + HOSTILE_HEALTH
    curl = (hostile / "clients" / "shop-web" / "curl.config").read_text()
    line = next(ln for ln in curl.splitlines() if ln.startswith("url = "))
    assert line[6:] == '"' + (api + HOSTILE_HEALTH) + '"'


def _nginx_t(prefix: Path, body: str) -> None:
    binary = ensure_nginx()
    prefix.mkdir(mode=0o700)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}pid {prefix}/nginx.pid;\nerror_log stderr warn;\nevents {{}}\nhttp {{\n"
        f"client_body_temp_path {prefix}/cb; proxy_temp_path {prefix}/px;\n"
        f"fastcgi_temp_path {prefix}/fc; uwsgi_temp_path {prefix}/uw; scgi_temp_path {prefix}/sc;\n"
        f"access_log off;\n{body}\n}}\n"
    )
    proc = run([binary, "-t", "-q", "-p", str(prefix), "-c", str(conf), "-e", "stderr"])
    assert proc.returncode == 0, proc.stderr
