"""Probe credentials at entry points until they are refused, or a deadline passes.

Each probe is the verifier's own (:func:`workbench.verify.probe.run_probe`): a fresh TLS
connection to one pinned address, outcome judged from the TLS alert reason or the HTTP
status, and anything else (refused connection, timeout, 5xx, a close without an alert) is
not a refusal. A point is *stably refused* once ``stable_after`` probes in a row were
refused; its time-to-refusal is measured from ``t0`` (the moment the revocation started) to
the first refusal of that final run. The clock is injectable; the pause between rounds is
a polling interval, not synchronisation.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.drill.targets import EntryAddress
from workbench.errors import VerifyError

__all__ = [
    "Credential",
    "Observation",
    "Point",
    "Timing",
    "cert_credential",
    "key_credential",
    "observe",
    "summarise",
    "watch",
]

DEFAULT_STABLE_AFTER = 3
DEFAULT_INTERVAL = 0.05
DEFAULT_TIMEOUT = 3.0
DEFAULT_CONCURRENCY = 16


@dataclass(frozen=True)
class Credential:
    """Something a probe presents: a client certificate, or a static key in a header."""

    label: str
    """How reports name it: ``cert <spiffe> serial=HEX`` or ``old key fp=...``."""
    context: ssl.SSLContext = field(repr=False, compare=False)
    """Client TLS context (with the certificate, if any), built once."""
    header: str | None = None
    """Header carrying ``secret`` (static keys only)."""
    secret: object | None = field(default=None, repr=False, compare=False)
    """A :class:`~workbench.secrets.SecretValue` (revealed only when writing the request)."""
    serial: str | None = None
    """Certificate serial (hex), for certificate credentials."""


def cert_credential(chain: Path, key: Path, server_ca: Path, *, label: str | None = None):
    """A certificate credential (its TLS context built once)."""
    from workbench.verify.engine import describe_cert
    from workbench.verify.probe import client_context

    try:
        ctx = client_context(server_ca, chain, key)
    except (OSError, ssl.SSLError) as exc:
        raise VerifyError(
            f"{chain}: cannot load certificate/key ({exc.__class__.__name__})"
        ) from None
    described = describe_cert(chain)
    serial = described.rsplit("serial=", 1)[-1]
    return Credential(label or described, ctx, serial=serial)


def key_credential(secret, header: str, server_ca: Path) -> Credential:
    """A static key sent in ``header`` (no client certificate)."""
    from workbench.verify.probe import client_context

    return Credential(f"old key fp={secret.fingerprint}", client_context(server_ca), header, secret)


@dataclass(frozen=True)
class Point:
    """One credential at one entry point address, behind one gateway."""

    where: EntryAddress
    gateway: str
    """Gateway id."""
    credential: Credential


@dataclass(frozen=True)
class Observation:
    """One probe's outcome."""

    at: float
    """Seconds since ``t0``."""
    outcome: str
    """``ACCEPTED``, ``REFUSED`` or another verifier outcome (never a refusal)."""
    reason: str | None
    """TLS alert reason, ``HTTP 403``, or the error."""


@dataclass(frozen=True)
class Timing:
    """What a point did during the watch."""

    gateway: str
    api: str
    entry_point: str
    address: str
    credential: str
    probes: int
    """Probes sent."""
    first_refusal_s: float | None
    """Seconds from t0 to the first refusal."""
    stable_s: float | None
    """Seconds from t0 to the start of the final run of refusals (None: never stable)."""
    last_outcome: str
    last_reason: str | None

    @property
    def refused(self) -> bool:
        return self.stable_s is not None


def _probe_spec(point: Point, path: str):
    from workbench.verify.probe import ProbeSpec

    cred = point.credential
    fields = ProbeSpec.__dataclass_fields__
    extra: dict = {}
    if cred.secret is not None:
        if "form" in fields:  # the verifier's key forms (header, query, Authorization)
            from workbench.verify.forms import KeyForm  # type: ignore[import-not-found]

            form = KeyForm(f"header {cred.header}", "header", cred.header or "")
            extra = {"form": form, "secret": cred.secret}
        else:
            extra = {"header_name": cred.header, "header_value": cred.secret}
    return ProbeSpec("drill", "refused", cred.context, cred.label, path, **extra)


def _run_probe_kwargs(where: EntryAddress) -> dict:
    from workbench.verify.probe import run_probe

    if "scheme_url" in inspect.signature(run_probe).parameters:
        host = where.host if ":" not in where.host else f"[{where.host}]"
        return {"scheme_url": f"https://{host}:{where.port}{where.path}"}
    return {}


async def probe(point: Point, *, timeout: float) -> tuple[str, str | None]:
    """One fresh-connection probe: (outcome, reason)."""
    from workbench.verify.probe import PinnedHost, run_probe

    w = point.where
    host_header = w.host if w.port == 443 else f"{w.host}:{w.port}"
    if ":" in w.host:
        host_header = f"[{w.host}]" if w.port == 443 else f"[{w.host}]:{w.port}"
    pinned = PinnedHost(host=w.host, ip=w.address, port=w.port, host_header=host_header)
    ev = await run_probe(
        _probe_spec(point, w.path), pinned, timeout=timeout, **_run_probe_kwargs(w)
    )
    reason = ev.tls_alert or (f"HTTP {ev.http_status}" if ev.http_status else ev.error_reason)
    return str(ev.outcome), reason


async def _gather_bounded(coros, limit: int):
    sem = asyncio.Semaphore(limit)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def observe(
    points: Sequence[Point], *, timeout: float = DEFAULT_TIMEOUT, concurrency: int = 16
) -> list[tuple[str, str | None]]:
    """Probe every point once (bounded concurrency); outcomes in input order."""
    return await _gather_bounded([probe(p, timeout=timeout) for p in points], concurrency)


@dataclass
class _Track:
    point: Point
    history: list[Observation] = field(default_factory=list)
    first_refusal: float | None = None
    streak_start: float | None = None
    streak: int = 0

    def add(self, obs: Observation, stable_after: int) -> None:
        self.history.append(obs)
        if obs.outcome == "REFUSED":
            if self.first_refusal is None:
                self.first_refusal = obs.at
            if self.streak == 0:
                self.streak_start = obs.at
            self.streak += 1
        else:
            self.streak, self.streak_start = 0, None

    def stable(self, stable_after: int) -> bool:
        return self.streak >= stable_after

    def timing(self, stable_after: int) -> Timing:
        w = self.point.where
        last = self.history[-1] if self.history else Observation(0.0, "NOT_PROBED", None)
        return Timing(
            gateway=self.point.gateway,
            api=w.api,
            entry_point=w.entry_point,
            address=w.address,
            credential=self.point.credential.label,
            probes=len(self.history),
            first_refusal_s=_r(self.first_refusal),
            stable_s=_r(self.streak_start) if self.stable(stable_after) else None,
            last_outcome=last.outcome,
            last_reason=last.reason,
        )


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


async def watch(
    points: Sequence[Point],
    *,
    t0: float,
    deadline: float,
    stable_after: int = DEFAULT_STABLE_AFTER,
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[int, int], None] | None = None,
) -> list[Timing]:
    """Probe, round after round, every point not yet stably refused, until all are or
    ``deadline`` seconds after ``t0`` have passed. Timings keep the input order."""
    tracks = [_Track(p) for p in points]
    end = t0 + deadline
    while True:
        pending = [t for t in tracks if not t.stable(stable_after)]
        if progress is not None:
            progress(len(tracks) - len(pending), len(tracks))
        # At least one round, however late: the evidence then says what each point does.
        if not pending or (clock() >= end and any(t.history for t in tracks)):
            break
        per_probe = max(0.2, min(timeout, end - clock()))
        outcomes = await _gather_bounded(
            [_timed(t.point, per_probe, t0, clock) for t in pending], concurrency
        )
        for track, obs in zip(pending, outcomes, strict=True):
            track.add(obs, stable_after)
        if any(not t.stable(stable_after) for t in pending):
            await asyncio.sleep(interval)  # polling interval between rounds
    return [t.timing(stable_after) for t in tracks]


async def _timed(point: Point, timeout: float, t0: float, clock) -> Observation:
    outcome, reason = await probe(point, timeout=timeout)
    return Observation(clock() - t0, outcome, reason)


def summarise(values: Sequence[float]) -> dict[str, float | None]:
    """Median and worst of some seconds (None when empty)."""
    if not values:
        return {"median_s": None, "worst_s": None}
    return {"median_s": round(statistics.median(values), 4), "worst_s": round(max(values), 4)}
