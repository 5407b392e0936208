"""The company's authorization server in an operator gateway's inventory entry: its shape
(one located line per mistake), its signing key files (ES256 PEM public keys only, each
refusal naming the file and why) and the refusals of gateways that cannot check tokens.
The HAProxy that enforces it runs in tests/gateway/test_operator_tokens.py."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from testca import pem_cert
from tokens_support import make_cert

from workbench.cli import main
from workbench.errors import GatewayError, InventoryError
from workbench.gateway.boundtoken import signing_key_pem, token_endpoint_of, token_settings
from workbench.inventory.dump import dump_inventory
from workbench.inventory.loader import loads_inventory

INVENTORY = """version: 1
apis:
  - {id: orders-api, url: "https://127.0.0.1:9443/orders", data_classes: [pii], owner: t,
     environment: prod}
services:
  - {id: shop, owner: t, environment: prod, exposure: internal}
keys:
  - {id: orders-key, api: orders-api, secret_ref: "env:ORDERS_KEY"}
integrations:
  - {consumer: shop, key: orders-key}
gateways:
  - id: edge
    kind: KIND
    apis: [orders-api]
    listen: 127.0.0.1:9443
    config: /etc/haproxy/workbench/edge.cfg
    reload: [systemctl, reload, haproxy]
    access_log: /var/log/haproxy/workbench-edge.log
    upstreams: {orders-api: "http://10.0.0.5:8080"}
    authorization_server:
      issuer: https://auth.example.com/realms/acme
      signing_keys: [keys/as-2026.pem, keys/as-2027.pem]
      token_endpoint: https://auth.example.com/realms/acme/token
      ca: keys/auth-ca.pem
"""


def _inv(kind: str = "haproxy", **replace: str) -> str:
    text = INVENTORY.replace("KIND", kind)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_the_authorization_server_loads_from_yaml_and_json_alike_and_round_trips():
    inv = loads_inventory(_inv(), "inv.yaml")
    server = inv.gateways[0].authorization_server
    assert server.issuer == "https://auth.example.com/realms/acme"
    assert server.signing_keys == ("keys/as-2026.pem", "keys/as-2027.pem")
    assert server.token_endpoint == "https://auth.example.com/realms/acme/token"
    assert server.ca == "keys/auth-ca.pem"
    assert loads_inventory(json.dumps(yaml.safe_load(_inv())), "inv.json") == inv
    assert loads_inventory(dump_inventory(inv), "again.yaml") == inv


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [
        ("nginx", {}, "21:7: authorization_server: only a haproxy gateway checks bound tokens"),
        ("haproxy", {"      issuer: https": "      issuer: \"https://a.test/'x\"\n      #"},
         "21:15: authorization_server.issuer must be the tokens' iss"),
        ("haproxy", {"issuer: https://auth.example.com/realms/acme": "issuer: https://a b"},
         "21:15: authorization_server.issuer must be"),
        ("haproxy", {"[keys/as-2026.pem, keys/as-2027.pem]": "keys/as.pem"},
         "22:21: authorization_server.signing_keys must be a list"),
        ("haproxy", {"[keys/as-2026.pem, keys/as-2027.pem]": "[]"},
         "22:21: authorization_server.signing_keys needs at least one"),
        ("haproxy", {"[keys/as-2026.pem, keys/as-2027.pem]": '["keys/a b.pem"]'},
         "22:22: authorization_server.signing_keys: each entry must be a plain path"),
        ("haproxy", {"token_endpoint: https://": "token_endpoint: http://"},
         "23:23: authorization_server.token_endpoint must be an https:// URL"),
        ("haproxy", {"      ca: keys": "      trust: keys"},
         "24:7: unknown field 'trust' in authorization_server"),
        ("haproxy", {"      issuer: https://auth.example.com/realms/acme\n": ""},
         "21:7: missing issuer"),
        ("haproxy", {INVENTORY[INVENTORY.index("    authorization_server:"):]:
                     "    authorization_server: [x]\n"},
         "20:27: authorization_server must be a mapping"),
    ],
)  # fmt: skip
def test_each_mistake_is_one_located_line(kind, change, expected):
    with pytest.raises(InventoryError) as info:
        loads_inventory(_inv(kind, **change), "inv.yaml")
    assert f"inv.yaml:{expected}" in str(info.value), str(info.value)


def test_inventory_check_exits_2_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "inventory.yaml"
    path.write_text(_inv(**{"token_endpoint: https://": "token_endpoint: http://"}))
    assert main(["inventory", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{path}:23:23: authorization_server.token_endpoint") and "\n" not in err


def _pem_public(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_an_ec_p256_public_key_is_taken_as_its_canonical_pem(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "as.pem"
    path.write_bytes(b"\n# exported from the server\n" + _pem_public(key))
    assert signing_key_pem(path, "inv.yaml:3:5: gateway edge") == _pem_public(key)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (lambda k: _pem_public(k["rsa"]), "an RSA key: HAProxy 2.6 cannot verify PS256"),
        (lambda k: _pem_public(k["ed"]), "an Ed25519 key: HAProxy 2.6 cannot verify EdDSA"),
        (lambda k: _pem_public(ec.generate_private_key(ec.SECP384R1())), "EC secp384r1"),
        (lambda k: k["ec"].private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()), "holds a PRIVATE key"),
        (lambda k: pem_cert(make_cert(k["ec"])), "a certificate: give its public key"),
        (lambda k: b'{"keys": [{"kty": "EC"}]}', "JSON (a JWK Set?)"),
        (lambda k: _pem_public(k["ec"]) * 2, "exactly one -----BEGIN PUBLIC KEY-----"),
        (lambda k: b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
         "not a readable PEM public key"),
        (lambda k: b"x" * (64 * 1024 + 1), "larger than 64 KiB"),
    ],
)  # fmt: skip
def test_every_other_key_file_is_refused_naming_the_file_and_why(
    tmp_path, content, why, ec_key, rsa_key
):
    keys = {"ec": ec_key, "rsa": rsa_key, "ed": ed25519.Ed25519PrivateKey.generate()}
    path = tmp_path / "as.pem"
    path.write_bytes(data := content(keys))
    with pytest.raises(GatewayError) as info:
        signing_key_pem(path, "inv.yaml:15:7: gateway edge")
    message = str(info.value)
    assert message.startswith(
        f"inv.yaml:15:7: gateway edge: authorization_server.signing_keys {path}:"
    )
    assert why in message and "\n" not in message, message
    body = [ln for ln in data.splitlines() if len(ln) > 16 and not ln.startswith(b"-----")]
    assert not any(ln.decode(errors="replace") in message for ln in body)  # never echoed


def test_a_missing_key_file_is_named(tmp_path):
    with pytest.raises(GatewayError, match=r"as\.pem: cannot read it \(No such file"):
        signing_key_pem(tmp_path / "as.pem", "inv.yaml:15:7: gateway edge")


def _gateway(kind="haproxy", **changes):
    gw = loads_inventory(_inv(), "inv.yaml").gateways[0]
    gw = dataclasses.replace(gw, kind=kind)
    if changes:
        gw = dataclasses.replace(
            gw, authorization_server=dataclasses.replace(gw.authorization_server, **changes)
        )
    return gw


def test_nginx_and_a_haproxy_without_authorization_server_refuse_mtls_token(tmp_path):
    with pytest.raises(GatewayError) as info:
        token_settings(_gateway("nginx"), tmp_path, tmp_path / "keys", {})
    assert "(nginx) cannot require bound tokens: nginx-light cannot verify a JWT" in str(info.value)
    assert "haproxy gateway with an authorization_server" in str(info.value)
    bare = dataclasses.replace(_gateway(), authorization_server=None)
    with pytest.raises(GatewayError, match="inv.yaml:12:5: gateway edge: mode mtls.token needs"):
        token_settings(bare, tmp_path, tmp_path / "keys", {})


def test_the_keys_become_owned_files_and_the_issuer_a_literal(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "keys").mkdir()
    for name in ("as-2026.pem", "as-2027.pem"):
        (tmp_path / "keys" / name).write_bytes(_pem_public(key))
    files: dict[Path, bytes] = {}
    settings = token_settings(_gateway(), tmp_path, tmp_path / "owned.keys", files)
    assert (
        settings["alg"] == "ES256" and settings["issuer"] == "https://auth.example.com/realms/acme"
    )
    assert settings["key_files"] == [
        str(tmp_path / "owned.keys" / f"as-signing-{n}.pem") for n in (1, 2)
    ]
    assert set(files.values()) == {_pem_public(key)}


def test_without_a_token_endpoint_the_verifier_is_told_what_stays_unproved():
    assert token_endpoint_of(_gateway()) == "https://auth.example.com/realms/acme/token"
    with pytest.raises(GatewayError) as info:
        token_endpoint_of(_gateway(token_endpoint=None))
    assert "cannot prove mtls+token" in str(info.value) and "add token_endpoint" in str(info.value)


def test_an_api_url_haproxy_cannot_quote_is_refused_not_rendered():
    from workbench.gateway.boundtoken import route_audience

    assert route_audience("https://127.0.0.1:9443/orders", "w") == "https://127.0.0.1:9443/orders"
    for url in ("https://a.test/x'y", "https://a.test/$HOME", "https://a.test/a\\b"):
        with pytest.raises(GatewayError, match="gateway edge: API a: the API url"):
            route_audience(url, "gateway edge: API a")
