"""Mode changes through the adapter while clients keep calling; audit failure rolls back."""

from __future__ import annotations

import ssl
import threading

import httpx
import pytest
from gateway_support import ensure_gateway_available, gateway_param
from test_gateway_modes import make_inventory
from testkit import free_port

from workbench.gateway.proc import children_of, pid_alive
from workbench.lab import SampleEnv


@pytest.fixture(params=[gateway_param("python"), gateway_param("nginx")])
def running(request, pki, tmp_path):
    kind = request.param
    ensure_gateway_available(kind)
    env = SampleEnv(
        make_inventory(), tmp_path / "state", gateway=kind, port=free_port(), inventory_dir=tmp_path
    )
    env.up(pki.server_cert, pki.server_key, pki.ca_bundle, modes={"dual-api": "dual"})
    yield env
    env.down()


class Loop:
    """Clients calling one API in threads until stopped; records every outcome."""

    def __init__(self, url: str, contexts: list[ssl.SSLContext], headers: dict[str, str]):
        self.url, self.contexts, self.headers = url, contexts, headers
        self.stop = threading.Event()
        self.results: list[object] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(c,)) for c in contexts]

    def _run(self, ctx: ssl.SSLContext) -> None:
        while not self.stop.is_set():
            # A fresh connection per request, like the verifier (req. 17): every request
            # goes through a handshake, so reloads are exercised at the TLS layer too.
            try:
                with httpx.Client(verify=ctx, timeout=10) as c:
                    outcome: object = c.get(self.url, headers=self.headers).status_code
            except (httpx.HTTPError, ssl.SSLError) as exc:
                outcome = repr(exc)
            with self.lock:
                self.results.append(outcome)

    def count(self) -> int:
        with self.lock:
            return len(self.results)

    def __enter__(self) -> Loop:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def wait_for_requests(loop: Loop, n: int) -> None:
    from workbench.gateway.proc import wait_until

    target = loop.count() + n
    wait_until(lambda: loop.count() >= target, timeout=20, what=f"{n} more requests")


def test_set_mode_reload_drops_no_request(running, pki):
    gw = running.current_gateway()
    port = gw.spec.port
    cert_ctx = pki.client("billing").context(pki.server_ca)
    audits: list[tuple] = []
    url = f"https://127.0.0.1:{port}/dual-api/data"
    # The allowed cert is accepted in dual and in mtls: switching between them must never
    # refuse or drop one of these requests.
    with Loop(url, [cert_ctx, pki.client("billing").context(pki.server_ca)], {}) as loop:
        wait_for_requests(loop, 5)
        for mode in ("mtls", "dual", "mtls", "dual"):
            gw.set_mode("dual-api", mode, audit=lambda *a: audits.append(a))
            wait_for_requests(loop, 5)
    assert len(loop.results) >= 25
    assert set(loop.results) == {200}, [r for r in loop.results if r != 200][:3]
    assert [(a[0], a[1], a[2]) for a in audits] == [
        ("dual-api", "dual", "mtls"),
        ("dual-api", "mtls", "dual"),
        ("dual-api", "dual", "mtls"),
        ("dual-api", "mtls", "dual"),
    ]
    assert all(len(a[3]) == 64 for a in audits)
    if gw.name == "nginx":
        # Old workers drained: only the current worker(s) remain.
        workers = children_of(gw.pid())
        assert workers and all(pid_alive(w) for w in workers)


def test_mode_change_takes_effect_and_audit_failure_rolls_back(running, pki):
    gw = running.current_gateway()
    port = gw.spec.port
    key = (running.state_dir / "keys" / "key-api-k.key").read_text().strip()
    anon = ssl.create_default_context(cafile=str(pki.server_ca))

    def status() -> int:
        with httpx.Client(verify=anon, timeout=10) as c:
            return c.get(
                f"https://127.0.0.1:{port}/key-api/health", headers={"X-API-Key": key}
            ).status_code

    assert status() == 200
    gw.set_mode("key-api", "mtls")
    assert status() == 401  # the old key alone is now refused
    assert running.status().modes["key-api"] == "mtls"

    def broken_audit(*args):
        raise OSError("audit log not writable")

    with pytest.raises(OSError):
        gw.set_mode("key-api", "key", audit=broken_audit)
    assert status() == 401, "an unaudited change must be rolled back"
    assert gw.spec.route("key-api").mode == "mtls"
    assert running.current_gateway().spec.route("key-api").mode == "mtls"
