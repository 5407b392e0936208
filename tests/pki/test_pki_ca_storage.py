"""Req. 10 and 12: CA keys encrypted at rest (bcrypt KDF), wrong or missing passphrase
refused with one clean message, load round-trips, CA files laid out for verifiers."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest
from cryptography.x509 import load_pem_x509_certificates
from testkit import require

from workbench.errors import PKIError
from workbench.pki import LocalCA

PASS = "correct horse battery staple"


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("castore") / "ca"
    LocalCA.create(d, trust_domain="acme.test", passphrase=PASS, kdf_rounds=3)
    return d


def test_layout_and_modes(ca_dir):
    names = sorted(p.name for p in ca_dir.iterdir())
    assert names == [
        "ca.json",
        "chain.pem",
        "intermediate.crt",
        "intermediate.key",
        "root.crt",
        "root.key",
    ]
    assert stat.S_IMODE(os.stat(ca_dir).st_mode) == 0o700
    for name in ("root.key", "intermediate.key"):
        assert stat.S_IMODE(os.stat(ca_dir / name).st_mode) == 0o600
    for name in ("root.crt", "intermediate.crt", "chain.pem", "ca.json"):
        assert stat.S_IMODE(os.stat(ca_dir / name).st_mode) == 0o644
    chain = load_pem_x509_certificates((ca_dir / "chain.pem").read_bytes())
    assert len(chain) == 2 and chain[0].issuer == chain[1].subject
    meta = json.loads((ca_dir / "ca.json").read_text())
    assert meta["kdf_rounds"] == 3 and meta["key_format"].startswith("openssh-bcrypt")


def test_keys_are_encrypted_and_readable_by_ssh_keygen(ca_dir, tmp_path):
    data = (ca_dir / "intermediate.key").read_bytes()
    assert data.startswith(b"-----BEGIN OPENSSH PRIV" + b"ATE KEY-----")
    import base64

    body = base64.b64decode(b"".join(data.splitlines()[1:-1]))
    assert body.startswith(b"openssh-key-v1\x00")
    assert b"aes256-ctr" in body[:64] and b"bcrypt" in body[:80]
    ssh_keygen = require("ssh-keygen", "openssh-client")
    copy = tmp_path / "k"
    copy.write_bytes(data)
    copy.chmod(0o600)
    ok = subprocess.run(
        [ssh_keygen, "-y", "-P", PASS, "-f", str(copy)], capture_output=True, text=True
    )
    assert ok.returncode == 0 and ok.stdout.startswith("ecdsa-sha2-nistp256 ")
    bad = subprocess.run(
        ["ssh-keygen", "-y", "-P", "wrong", "-f", str(copy)], capture_output=True, text=True
    )
    assert bad.returncode != 0


def test_load_round_trip_and_issue(ca_dir):
    ca = LocalCA.load(ca_dir, PASS)
    assert ca.trust_domain == "acme.test"
    issued = ca.issue_client("svc", "prod")
    issued.certificate.verify_directly_issued_by(ca.intermediate_cert)
    crls = ca.crls([], 1)  # decrypts the root key with the held passphrase
    assert crls.root.is_signature_valid(ca.root_cert.public_key())


@pytest.mark.parametrize(
    ("passphrase", "message"),
    [
        (None, "give the CA passphrase"),
        ("", "give the CA passphrase"),
        ("wrong passphrase", "wrong CA passphrase"),
    ],
)
def test_load_refuses_missing_or_wrong_passphrase(ca_dir, passphrase, message):
    with pytest.raises(PKIError, match=message) as info:
        LocalCA.load(ca_dir, passphrase)
    text = str(info.value)
    assert "\n" not in text and PASS not in text
    err = info.value  # no chained cryptography traceback to leak or confuse
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


def test_load_refuses_non_ca_and_mismatched_dirs(tmp_path, ca_dir):
    with pytest.raises(PKIError, match="not a workbench CA directory"):
        LocalCA.load(tmp_path, PASS)
    broken = tmp_path / "broken"
    shutil.copytree(ca_dir, broken)
    other = tmp_path / "other"
    LocalCA.create(other, trust_domain="acme.test", passphrase=PASS, kdf_rounds=1)
    shutil.copy(other / "intermediate.key", broken / "intermediate.key")
    with pytest.raises(PKIError, match="does not match"):
        LocalCA.load(broken, PASS)
    shutil.copy(other / "intermediate.crt", broken / "intermediate.crt")
    with pytest.raises(PKIError, match="not issued by root.crt"):
        LocalCA.load(broken, PASS)


def test_create_refuses_existing_ca_and_weak_input(ca_dir, tmp_path):
    with pytest.raises(PKIError, match="already holds a CA"):
        LocalCA.create(ca_dir, trust_domain="acme.test", passphrase=PASS, kdf_rounds=1)
    with pytest.raises(PKIError, match="too short"):
        LocalCA.create(tmp_path / "x", trust_domain="acme.test", passphrase="short", kdf_rounds=1)
    with pytest.raises(PKIError, match="bad trust domain"):
        LocalCA.create(tmp_path / "y", trust_domain="Acme Test", passphrase=PASS, kdf_rounds=1)
    with pytest.raises(PKIError, match="unsupported key algorithm"):
        LocalCA.create(tmp_path / "z", trust_domain="acme.test", passphrase=PASS, algorithm="dsa")
