"""Requirement 27, one filter per syntax, each read back by the real parser of that syntax.

A value full of what each syntax treats specially (space, quotes, ``;``, braces, ``#``,
``$``, backslash) goes through the filter into a file the real program reads: nginx and
HAProxy must open a file by that exact name, bash and curl must produce it unchanged, and
Python, YAML and JSON must parse it back. A template value without a filter stops the render.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess

import pytest
import yaml
from render_support import ensure_nginx, run
from testkit import require

from workbench.errors import ConfigRenderError
from workbench.render.filters import FILTERS

HOSTILE = "we ird;{x} #\"q' $HOME \\n"


def _cert_pair(directory):
    """A self-signed server certificate and key (what nginx and HAProxy must open)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem_cert = cert.public_bytes(serialization.Encoding.PEM)
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    directory.mkdir(parents=True)
    (directory / "server.crt").write_bytes(pem_cert)
    (directory / "server.key").write_bytes(pem_key)
    (directory / "server.pem").write_bytes(pem_cert + pem_key)
    return directory


def test_nginx_opens_files_named_with_every_special_character(tmp_path):
    nginx = ensure_nginx()
    d = _cert_pair(tmp_path / HOSTILE.replace("$", "S"))  # nginx has no escape for "$"
    f = FILTERS["nginx"]
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}pid {prefix}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n"
        f"client_body_temp_path {prefix}/cb; proxy_temp_path {prefix}/px;\n"
        f"fastcgi_temp_path {prefix}/fc; uwsgi_temp_path {prefix}/uw; scgi_temp_path {prefix}/sc;\n"
        "access_log off;\nserver {\n  listen 127.0.0.1:18998 ssl;\n"
        f"  ssl_certificate {f(str(d / 'server.crt'))};\n"
        f"  ssl_certificate_key {f(str(d / 'server.key'))};\n"
        "}\n}\n"
    )
    proc = run([nginx, "-t", "-q", "-p", str(prefix), "-c", str(conf), "-e", "stderr"])
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(ConfigRenderError, match="starts a variable"):
        f("/etc/$host/cert.pem")
    assert FILTERS["nginx_url"]("https://h/a$b") == '"https://h/a%24b"'


@pytest.mark.parametrize("name", [HOSTILE, HOSTILE.replace("'", "")])
def test_haproxy_opens_files_named_with_every_special_character(tmp_path, name):
    require("haproxy", "haproxy")
    d = _cert_pair(tmp_path / name)
    f = FILTERS["haproxy"]
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
        "    timeout server 1s\nfrontend fe\n"
        f"    bind 127.0.0.1:18997 ssl crt {f(str(d / 'server.pem'))}\n"
        f"    http-request set-header X-Test {f('plain')}\n"
        "    default_backend be\nbackend be\n    server s1 127.0.0.1:9\n"
    )
    proc = run(["haproxy", "-c", "-f", str(cfg)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shell_env_curl_and_code_filters_read_back_unchanged(tmp_path):
    value = HOSTILE + " `touch x` $(touch y)"
    proc = subprocess.run(
        ["bash", "-c", f"printf %s {FILTERS['sh'](value)}"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout == value
    env_file = tmp_path / "x.env"
    env_file.write_text(f"V={FILTERS['env'](value)}\n")
    proc = subprocess.run(
        ["bash", "-c", 'set -a; . ./x.env; printf %s "$V"'],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout == value and not any(tmp_path.glob("[xy]"))
    assert ast.literal_eval(FILTERS["code"](value)) == value
    assert json.loads(FILTERS["code"](value)) == value
    assert yaml.safe_load("k: " + FILTERS["yaml"](value))["k"] == value
    curl = require("curl", "curl")
    src = tmp_path / "src.txt"
    src.write_text("payload")
    out = tmp_path / HOSTILE.replace("/", "_")
    config = tmp_path / "curl.config"
    config.write_text(
        f"url = {FILTERS['curl']('file://' + str(src))}\noutput = {FILTERS['curl'](str(out))}\n"
    )
    proc = run([curl, "-s", "-K", str(config)])
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "payload"


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\u2028b", "a\x00b", "a\u202eb"])
def test_every_filter_refuses_what_ends_a_line(name, bad):
    with pytest.raises(ConfigRenderError):
        FILTERS[name](bad)


def test_a_template_value_without_a_filter_stops_the_render():
    from workbench.render.engine import _environment

    env = _environment()
    assert env.from_string("x={{ v | bare }}").render(v="ok") == "x=ok"
    with pytest.raises(ConfigRenderError, match="without a syntax filter"):
        env.from_string("x={{ v }}").render(v="ok")
