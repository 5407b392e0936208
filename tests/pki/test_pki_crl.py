"""Req. 6: CRLs are v2 with nextUpdate, AKI and an increasing CRL number, one per CA."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from workbench.errors import PKIError
from workbench.pki import LocalCA, Revoked, build_crl, crl_number_of, parse_reason

NOW = datetime.now(UTC).replace(microsecond=0)


def test_crl_set_is_v2_with_next_update_aki_and_number(ca: LocalCA, tmp_path):
    a = ca.issue_client("a", "prod")
    b = ca.issue_client("b", "prod")
    revoked = [ca.revoke(a.serial, "keyCompromise", NOW), ca.revoke(b.serial, None, NOW)]
    crls = ca.crls(revoked, crl_number=7, now=NOW, next_update_after=timedelta(days=2))
    for crl, issuer in ((crls.intermediate, ca.intermediate_cert), (crls.root, ca.root_cert)):
        assert crl.issuer == issuer.subject
        assert crl.is_signature_valid(issuer.public_key())
        assert crl.last_update_utc == NOW
        assert crl.next_update_utc == NOW + timedelta(days=2)
        assert crl_number_of(crl) == 7
        aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert aki.key_identifier == ski.digest
    assert len(crls.root) == 0 and len(crls.intermediate) == 2
    entry_a = crls.intermediate.get_revoked_certificate_by_serial_number(a.serial)
    assert entry_a.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )
    entry_b = crls.intermediate.get_revoked_certificate_by_serial_number(b.serial)
    assert len(entry_b.extensions) == 0  # unspecified is omitted (RFC 5280 5.3.1)
    # openssl reads both and calls them version 2 (the DER version field is v2 = 1)
    path = tmp_path / "crls.pem"
    path.write_bytes(crls.combined_pem)
    text = subprocess.run(
        ["openssl", "crl", "-in", str(path), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Version 2 (0x1)" in text and "Next Update" in text and "X509v3 CRL Number" in text
    assert crl_number_of(crls.intermediate_pem) == 7


def test_crl_numbers_increase(ca: LocalCA):
    numbers = []
    previous = 0
    for _ in range(3):
        crls = ca.crls([], previous + 1, now=NOW)
        numbers.append(crl_number_of(crls.intermediate_pem))
        previous = numbers[-1]
    assert numbers == [1, 2, 3]
    for bad in (0, -1, 2**159):
        with pytest.raises(PKIError, match="bad CRL number"):
            build_crl(ca.intermediate_cert, object(), [], bad, NOW)  # type: ignore[arg-type]


def test_revocation_records_are_checked():
    with pytest.raises(PKIError, match="positive integer"):
        Revoked(0, NOW)
    with pytest.raises(PKIError, match="timezone-aware"):
        Revoked(5, datetime(2026, 1, 1))  # noqa: DTZ001
    assert parse_reason("key-compromise") is x509.ReasonFlags.key_compromise
    assert parse_reason("superseded") is x509.ReasonFlags.superseded
    with pytest.raises(PKIError, match="unknown revocation reason"):
        parse_reason("because")
    with pytest.raises(PKIError, match="delta CRLs"):
        parse_reason("removeFromCRL")


def test_duplicate_revocations_appear_once(ca: LocalCA):
    r = ca.revoke(12345, "superseded", NOW)
    crls = ca.crls([r, r], 1, now=NOW)
    assert len(crls.intermediate) == 1
