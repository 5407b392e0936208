"""Run the probes of one target (or a wave of targets) and judge them (requirements 14-18).

One run covers, for every entry point of the API (its ``url`` plus ``endpoints``) and every
address each resolves to (A and AAAA, or ``--connect-to`` pins), each pinned with the
original host as SNI and Host header, the matrix of :mod:`workbench.verify.matrix`:
positive controls (each consumer's certificate), and negatives to every path with GET and
POST, ``repeat`` times: no credentials, the old key alone and beside another identity's
certificate in every form, a foreign-CA certificate (a throwaway look-alike unless one is
given), a revoked and another service's certificate when given.

Every probe opens a fresh connection with a fresh TLS session; no redirect is followed. All
probes of a wave share one pool of ``concurrency`` threads (OpenSSL releases the GIL while
it works), so a wave keeps the machine busy without more connections than that at once.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from workbench.errors import VerifyError
from workbench.secrets import SecretValue
from workbench.verify.classify import Outcome
from workbench.verify.forms import DECOY_VALUE, key_forms
from workbench.verify.matrix import (
    KEY_BESIDE_CERT,
    LIVE_DECOY,
    LIVE_PROBE,
    Credentials,
    build_credentials,
    describe_cert,
    prepare,
    scope_of,
)
from workbench.verify.probe import (
    PinnedHost,
    ProbeEvidence,
    ProbeSpec,
    client_context,
    run_probe_blocking,
)
from workbench.verify.resolve import resolve_all
from workbench.verify.target import (
    DEFAULT_REPEAT,
    DEFAULT_TIMEOUT,
    CertIdentity,
    EntryPoint,
    Identities,
    Options,
    RunInfo,
    Target,
    VerifyResult,
    check_target,
    entry_points,
)
from workbench.verify.verdict import decide

__all__ = [
    "DEFAULT_REPEAT",
    "DEFAULT_TIMEOUT",
    "KEY_BESIDE_CERT",
    "CertIdentity",
    "EntryPoint",
    "Identities",
    "LivenessResult",
    "Options",
    "RunInfo",
    "Target",
    "VerifyResult",
    "check_target",
    "confirm_live",
    "describe_cert",
    "entry_points",
    "prepare",
    "run_confirm_live",
    "run_verify",
    "run_verify_many",
    "verify_many",
    "verify_target",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _host_header(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == 443 else f"{shown}:{port}"


@dataclass
class _Job:
    target: Target
    identities: Identities
    entries: tuple[EntryPoint, ...]
    started: datetime
    items: list = field(default_factory=list)
    """(expected, spec, pinned-or-error) in run order."""
    results: list = field(default_factory=list)
    addresses: list = field(default_factory=list)
    pending: int = 0


def _dns_evidence(spec: ProbeSpec, entry: EntryPoint, error: BaseException) -> ProbeEvidence:
    url = f"https://{entry.host}:{entry.port}{spec.path}"
    return ProbeEvidence(
        name=spec.name, url=url, ip="", port=entry.port, sni=entry.host,
        host_header=_host_header(entry.host, entry.port), identity=spec.identity,
        outcome=Outcome.DNS, method=spec.method,
        form=spec.form.label if spec.form else None, attempt=spec.attempt,
        error_class=type(error).__name__, error_reason=f"cannot resolve {entry.host}",
    )  # fmt: skip


async def _plan_job(
    job: _Job,
    options: Options,
    specs_for: Callable[[EntryPoint], tuple[ProbeSpec, ...]],
) -> None:
    for entry in job.entries:
        addrs = await resolve_all(entry.host, entry.port, options.connect_to, options.resolver)
        specs = specs_for(entry)
        if isinstance(addrs, BaseException):
            job.addresses.append([])
            for spec in specs:
                job.items.append((spec.expected, spec, _dns_evidence(spec, entry, addrs)))
            continue
        job.addresses.append(addrs)
        host_header = _host_header(entry.host, entry.port)
        for ip in addrs:
            pinned = PinnedHost(entry.host, ip, entry.port, host_header)
            for spec in specs:
                job.items.append((spec.expected, spec, pinned))
    job.results = [None] * len(job.items)
    job.pending = sum(1 for _, _, p in job.items if isinstance(p, PinnedHost))


def _run_pool(
    jobs: Sequence[_Job],
    options: Options,
    user_agent: str,
    on_done: Callable[[_Job], None],
) -> None:
    """Send every pinned probe of ``jobs`` from ``options.concurrency`` threads; call
    ``on_done`` once per job when its last probe is back (under a lock, in a pool thread)."""
    work: deque[tuple[_Job, int]] = deque()
    lock = threading.Lock()
    for job in jobs:
        for i, (_, _, where) in enumerate(job.items):
            if isinstance(where, PinnedHost):
                work.append((job, i))
            else:
                job.results[i] = where
        if job.pending == 0:
            on_done(job)
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            try:
                job, i = work.popleft()
            except IndexError:
                return
            _, spec, pinned = job.items[i]
            job.results[i] = run_probe_blocking(
                spec, pinned, timeout=options.timeout, user_agent=user_agent
            )
            with lock:
                job.pending -= 1
                if job.pending == 0:
                    try:
                        on_done(job)
                    except BaseException as exc:  # re-raised in the caller's thread
                        errors.append(exc)
                        work.clear()

    n = max(1, min(options.concurrency, len(work)))
    threads = [threading.Thread(target=worker, name=f"verify-{k}", daemon=True) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


async def _run_jobs(
    jobs: Sequence[_Job],
    options: Options,
    user_agent: str,
    on_done: Callable[[_Job], None],
) -> None:
    await asyncio.to_thread(_run_pool, jobs, options, user_agent, on_done)


def _user_agent(options: Options) -> tuple[str, str]:
    token = options.run_token or secrets.token_hex(16)
    return token, f"{options.user_agent} run/{token}"


async def verify_many(
    jobs: Sequence[tuple[Target, Identities]],
    *,
    options: Options | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    progress: Callable[[VerifyResult], None] | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> list[VerifyResult]:
    """Verify a wave: every probe of every target goes through one pool of at most
    ``options.concurrency`` workers. Results keep the input order. Argument errors (req.
    18, unreadable certs, bad paths) are raised before any probe is sent."""
    options = options or Options()
    if concurrency is not None:
        options = _replace(options, concurrency=concurrency)
    if timeout is not None:
        options = _replace(options, timeout=timeout)
    if options.repeat < 1:
        raise VerifyError("repeat must be at least 1")
    token, agent = _user_agent(options)
    run = RunInfo(token, agent)
    # Contexts are built once per distinct identity set, before the first probe (unreadable
    # credentials fail the wave early). An SSLContext holds no connection or session state
    # (each probe gets its own SSLObject; ``session_reused`` in the evidence shows it).
    creds: dict[Identities, Credentials] = {}
    planned: list[_Job] = []
    for target, identities in jobs:
        entries = entry_points(target)
        try:
            key_forms(target.header, target.presented_as)
        except ValueError as exc:
            raise VerifyError(f"{target.name or target.url}: {exc}") from None
        if identities not in creds:
            creds[identities] = build_credentials(identities)
        planned.append(_Job(target, identities, entries, now()))
    for job in planned:
        c = creds[job.identities]

        def specs_for(entry: EntryPoint, job: _Job = job, c: Credentials = c):
            return prepare(
                job.identities,
                job.target.header,
                entry.health,
                paths=entry.paths[1:],
                presented_as=job.target.presented_as,
                repeat=options.repeat,
                creds=c,
                host=entry.host,
            )

        await _plan_job(job, options, specs_for)
    results: dict[int, VerifyResult] = {}

    def on_done(job: _Job) -> None:
        observations = [(exp, ev) for (exp, _, _), ev in zip(job.items, job.results, strict=True)]
        scope = scope_of(
            job.identities,
            job.target,
            job.entries,
            job.addresses,
            options.repeat,
            len(observations),
        )
        verdict = decide(observations, started=job.started, finished=now(), scope=scope["text"])
        res = VerifyResult(job.target, verdict, run, scope)
        results[id(job)] = res
        if progress is not None:
            progress(res)

    await _run_jobs(planned, options, agent, on_done)
    return [results[id(job)] for job in planned]


def _replace(options: Options, **changes) -> Options:
    return replace(options, **changes)


async def verify_target(
    target: Target,
    identities: Identities,
    *,
    options: Options | None = None,
    timeout: float | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> VerifyResult:
    """Probe one target and judge it. Raises VerifyError only for bad arguments (req. 18);
    anything the network does becomes evidence and a verdict."""
    [res] = await verify_many([(target, identities)], options=options, timeout=timeout, now=now)
    return res


@dataclass(frozen=True)
class LivenessResult:
    """The before-observation: the old key value, probed before a change."""

    state: str
    """``LIVE``, ``NOT_LIVE`` or ``UNKNOWN`` (see ``decide_liveness``)."""
    reasons: tuple[str, ...]
    evidence: tuple[ProbeEvidence, ...]
    started: datetime
    finished: datetime
    run: RunInfo


async def confirm_live(
    target: Target,
    identities: Identities,
    *,
    options: Options | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> LivenessResult:
    """Probe the old key (declared header, GET of the health path) at every entry point and
    address; it must be accepted there before the change can prove anything. A wrong value
    is sent beside it and must be refused: a gateway that takes any value (or checks only
    that the header is there) says nothing about the value the workbench holds."""
    from workbench.verify.verdict import decide_liveness

    options = options or Options()
    token, agent = _user_agent(options)
    entries = entry_points(target)
    bare = client_context(identities.server_ca)
    form = key_forms(target.header)[0]
    old = identities.old_key
    job = _Job(target, identities, entries, now())

    decoy = SecretValue(DECOY_VALUE)

    def specs_for(entry: EntryPoint) -> tuple[ProbeSpec, ...]:
        return (
            ProbeSpec(LIVE_PROBE, "accepted", bare, f"old key fp={old.fingerprint}",
                      entry.health, "GET", form, old),
            ProbeSpec(LIVE_DECOY, "refused", bare, f"wrong value fp={decoy.fingerprint}",
                      entry.health, "GET", form, decoy),
        )  # fmt: skip

    await _plan_job(job, options, specs_for)
    done: list[_Job] = []
    await _run_jobs([job], options, agent, done.append)
    state, reasons = decide_liveness(job.results)
    return LivenessResult(state, reasons, tuple(job.results), job.started, now(),
                          RunInfo(token, agent))  # fmt: skip


def run_verify(
    target: Target,
    identities: Identities,
    *,
    options: Options | None = None,
    timeout: float | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> VerifyResult:
    """Synchronous wrapper for one target (CLI, notebooks)."""
    return asyncio.run(verify_target(target, identities, options=options, timeout=timeout, now=now))


def run_verify_many(
    jobs: Sequence[tuple[Target, Identities]],
    *,
    options: Options | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    progress: Callable[[VerifyResult], None] | None = None,
) -> list[VerifyResult]:
    """Synchronous wrapper for a wave."""
    coro = verify_many(
        jobs, options=options, concurrency=concurrency, timeout=timeout, progress=progress
    )
    return asyncio.run(coro)


def run_confirm_live(
    target: Target, identities: Identities, *, options: Options | None = None
) -> LivenessResult:
    """Synchronous wrapper of :func:`confirm_live`."""
    return asyncio.run(confirm_live(target, identities, options=options))
