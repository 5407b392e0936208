"""Unit tests of single functions: the refusal streak, the verdict order, CRL health."""

from datetime import UTC, datetime, timedelta

import pytest

from workbench.drill.crlinfo import crl_health, read_crl_file
from workbench.drill.probing import Credential, Observation, Point, _Track
from workbench.drill.runner import verdict_of
from workbench.drill.targets import EntryAddress, api_entry_addresses


def _point():
    where = EntryAddress("a", "https://h:1/a/health", "h", 1, "127.0.0.1", "/a/health")
    return Point(where, "lab", Credential("cert x", context=None))  # type: ignore[arg-type]


def test_stable_refusal_is_the_start_of_the_final_run():
    track = _Track(_point())
    for at, outcome in [
        (0.1, "ACCEPTED"),
        (0.2, "REFUSED"),
        (0.3, "ACCEPTED"),
        (0.4, "REFUSED"),
        (0.5, "CONN_REFUSED"),
        (0.6, "REFUSED"),
        (0.7, "REFUSED"),
    ]:
        track.add(Observation(at, outcome, None), 3)
    assert not track.stable(3)  # a connection error is never a refusal: the run restarted
    t = track.timing(3)
    assert t.first_refusal_s == 0.2 and t.stable_s is None and t.probes == 7
    track.add(Observation(0.8, "REFUSED", "SSLV3_ALERT_CERTIFICATE_REVOKED"), 3)
    t = track.timing(3)
    assert track.stable(3) and t.stable_s == 0.6 and t.refused
    assert t.last_reason == "SSLV3_ALERT_CERTIFICATE_REVOKED"


def test_verdict_order():
    assert verdict_of([], []) == "PASS"
    assert verdict_of([], ["no answer"]) == "ERROR"
    assert verdict_of(["still accepted"], ["no answer"]) == "FAIL"


def test_entry_points_cover_every_endpoint_and_address():
    class Api:
        id = "pay"
        url = "https://pay.test:8443/pay"
        health_path = "/health"
        endpoints = ("https://pay-eu.test/pay",)

    seen = []

    def resolver(host, port):
        seen.append((host, port))
        return {"pay.test": ["10.0.0.1", "10.0.0.2"], "pay-eu.test": ["10.1.0.1"]}[host]

    got = api_entry_addresses([Api()], resolver=resolver)
    assert [(e.entry_point, e.address) for e in got] == [
        ("https://pay.test:8443/pay/health", "10.0.0.1"),
        ("https://pay.test:8443/pay/health", "10.0.0.2"),
        ("https://pay-eu.test/pay/health", "10.1.0.1"),
    ]
    assert seen == [("pay.test", 8443), ("pay-eu.test", 443)]
    assert got[1].label == "https://pay.test:8443/pay/health @ 10.0.0.2"


def test_unresolvable_entry_point_is_an_error_naming_it():
    from workbench.errors import VerifyError

    class Api:
        id = "pay"
        url = "https://nowhere.invalid/pay"
        health_path = None

    def resolver(host, port):
        raise OSError(-2, "Name or service not known")

    with pytest.raises(VerifyError, match="nowhere.invalid"):
        api_entry_addresses([Api()], resolver=resolver)


@pytest.fixture(scope="module")
def crl_file(tmp_path_factory):
    from workbench.pki import LocalCA

    d = tmp_path_factory.mktemp("ca")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ca = LocalCA.create(
        d / "ca", trust_domain="t.test", passphrase="not-secret-x", now=now, kdf_rounds=1
    )
    crls = ca.crls([], 5, now, next_update_after=timedelta(days=7))
    path = d / "crl.pem"
    path.write_bytes(crls.combined_pem)
    return path, now


def test_crl_health_states(crl_file):
    path, now = crl_file
    info = read_crl_file(path)
    assert info["number"] == 5 and info["crls"] == 2
    assert info["next_update"] == now + timedelta(days=7)
    ok = crl_health("lab", "python", path, now=now + timedelta(days=1), published=5)
    assert ok.state == "ok" and ok.warning is None and ok.number == 5
    soon = crl_health("lab", "python", path, now=now + timedelta(days=6), published=5)
    assert soon.state == "expiring" and "expires in 1d" in soon.warning
    gone = crl_health("lab", "python", path, now=now + timedelta(days=8), published=5)
    assert gone.state == "expired" and "expired" in gone.warning
    behind = crl_health("lab", "nginx", path, now=now, published=6)
    assert behind.state == "behind" and "6" in behind.warning
    assert crl_health("lab", "x", None, now=now, published=5).state == "none"
    missing = crl_health("lab", "x", path.with_name("nope.pem"), now=now, published=5)
    assert missing.state == "missing"
