"""Run the probes of one target (or a wave of targets) and judge them (requirements 14-18).

One run covers, for every entry point of the API (its ``url`` plus ``endpoints``) and every
address each resolves to (A and AAAA, or ``--connect-to`` pins), each pinned with the
original host as SNI and Host header:

- positive controls: each consumer's certificate, GET of the health path (2xx expected);
- negatives, to the health path and every ``probe_paths`` path, with GET and with POST
  (empty body), each repeated ``repeat`` times: no credentials; the old key alone in every
  form (:mod:`workbench.verify.forms`); the old key in every form beside a valid certificate
  of an identity the API does not authorise; a certificate from a foreign CA (a throwaway
  look-alike unless one is given); a revoked certificate and another service's certificate
  when given.

Every probe opens a fresh connection with a fresh TLS session; no redirect is followed.
All probes of a wave share one bounded pool of workers, so a wave keeps the machine busy
without opening more than ``concurrency`` connections at once.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from workbench.errors import VerifyError
from workbench.secrets import SecretValue
from workbench.verify.classify import Outcome
from workbench.verify.forms import KeyForm, bearer_form, key_forms
from workbench.verify.probe import (
    USER_AGENT,
    PinnedHost,
    ProbeEvidence,
    ProbeSpec,
    client_context,
    run_probe,
)
from workbench.verify.resolve import ConnectTo, Resolver, resolve_all
from workbench.verify.verdict import CONTROL, NO_CREDENTIALS, OLD_KEY, Verdict, decide

__all__ = [
    "DEFAULT_REPEAT",
    "CertIdentity",
    "EntryPoint",
    "Identities",
    "Options",
    "Target",
    "VerifyResult",
    "check_target",
    "entry_points",
    "prepare",
    "run_verify",
    "run_verify_many",
    "verify_many",
    "verify_target",
]

DEFAULT_TIMEOUT = 5.0
DEFAULT_REPEAT = 5
DEFAULT_CONCURRENCY = 16
METHODS = ("GET", "POST")
KEY_BESIDE_CERT = "old-key+other-cert"
LIVE_PROBE = "old-key-live"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Target:
    """One API to verify."""

    url: str
    """``https://host[:port]/...``: the first entry point. Without ``path`` its own path is
    the health path; with ``path`` it is the API's base URL."""
    header: str = "X-API-Key"
    """Header the old key is declared to travel in."""
    environment: str | None = None
    """Environment label of the target (e.g. ``prod``, ``staging``)."""
    expected_environment: str | None = None
    """Environment of the step asking for the probe; must match ``environment`` (req. 18)."""
    path: str | None = None
    """Health path, relative to each entry point's base path."""
    allow_cross_environment: bool = False
    """Set only when the operator explicitly allows probing another environment."""
    name: str = ""
    """Label for reports (e.g. the key id)."""
    endpoints: tuple[str, ...] = ()
    """Other base URLs where the same API is reachable (another host, region, the backend's
    own port); probed exactly like ``url``."""
    probe_paths: tuple[str, ...] = ()
    """More paths the negatives go to: relative to each base path when ``path`` is given,
    else absolute (the standalone ``--path``)."""
    presented_as: tuple[str, ...] = ()
    """Extra forms the key may travel in (``header:NAME``, ``query:NAME`` ...)."""


@dataclass(frozen=True)
class CertIdentity:
    """A client certificate chain and its private key."""

    chain: Path
    """PEM chain file (leaf first)."""
    key: Path
    """PEM private key file."""


@dataclass(frozen=True)
class Identities:
    """Credentials a run presents."""

    new_cert: CertIdentity
    """A certificate that should now be accepted (positive control)."""
    old_key: SecretValue
    """The old static key that should now be refused."""
    server_ca: Path
    """CA file trusted for the server's certificate."""
    foreign_cert: CertIdentity | None = None
    """A cert from another CA: must be refused. Without it, a throwaway CA makes a
    look-alike of ``new_cert`` (same subject and SANs)."""
    revoked_cert: CertIdentity | None = None
    """A revoked cert from the right CA: must be refused."""
    other_service_cert: CertIdentity | None = None
    """A valid cert of an identity the API does not authorise: must be refused alone, and
    the old key beside it too (in every form)."""
    bearer_token: SecretValue | None = None
    """In ``mtls+token`` mode: an access token bound to ``new_cert`` (RFC 8705). The control
    then presents both, and three more probes must be refused: the certificate without the
    token, the token without a certificate, and the token presented with ``token_peer_cert``."""
    token_peer_cert: CertIdentity | None = None
    """Another service's valid certificate (ideally one the API authorises) to present the
    bound token with: the binding, not the allow-list, must refuse it."""
    more_controls: tuple[CertIdentity, ...] = ()
    """Every other consumer's certificate: each is a positive control too."""
    more_tokens: tuple[SecretValue, ...] = ()
    """In ``mtls+token`` mode: the token bound to each of ``more_controls``, in order."""

    @property
    def controls(self) -> tuple[CertIdentity, ...]:
        return (self.new_cert, *self.more_controls)


@dataclass(frozen=True)
class Options:
    """How a run probes (the same for every target of a wave)."""

    repeat: int = DEFAULT_REPEAT
    """Each negative probe is sent this many times, each on a fresh connection."""
    timeout: float = DEFAULT_TIMEOUT
    """Per-probe timeout in seconds."""
    concurrency: int = DEFAULT_CONCURRENCY
    """Probes in flight at once."""
    user_agent: str = USER_AGENT
    """User-Agent sent; the run's token is appended (``run/<token>``)."""
    connect_to: tuple[ConnectTo, ...] = ()
    """Names pinned to addresses instead of resolving them."""
    resolver: Resolver | None = field(default=None, compare=False)
    """``async (host, port) -> [address]``; the system resolver when None."""
    run_token: str = ""
    """The run's random token; made fresh when empty."""


@dataclass(frozen=True)
class RunInfo:
    """How this run's own requests can be recognised (req. 33)."""

    token: str
    """Random per-run token carried in every probe's User-Agent."""
    user_agent: str
    """The full User-Agent sent."""


@dataclass(frozen=True)
class VerifyResult:
    """A target and its verdict."""

    target: Target
    """What was probed."""
    verdict: Verdict
    """The judgement with every probe's evidence."""
    run: RunInfo | None = None
    """The run's token and User-Agent."""
    scope: dict = field(default_factory=dict, compare=False)
    """What was covered, as data (see :func:`scope_of`)."""


@dataclass(frozen=True)
class EntryPoint:
    """One place the API answers."""

    url: str
    """As given (base URL, or the health URL in the standalone form)."""
    host: str
    port: int
    paths: tuple[str, ...]
    """Request targets: the health path first, then the probe paths."""

    @property
    def health(self) -> str:
        return self.paths[0]


def _join(base: str, rel: str) -> str:
    return base.rstrip("/") + "/" + rel.lstrip("/")


def _entry(target: Target, url: str) -> EntryPoint:
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise VerifyError(f"{url}: only https:// URLs can be verified")
    if not parts.hostname or parts.username or parts.password:
        raise VerifyError(f"{url}: need https://HOST[:PORT]/PATH without user info")
    try:
        port = parts.port or 443
    except ValueError:
        raise VerifyError(f"{url}: the port is not a number 1-65535") from None
    if target.path is not None:
        health = _join(parts.path, target.path)
        extra = [_join(parts.path, p) for p in target.probe_paths]
    else:
        health = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        extra = list(target.probe_paths)
    for p in (health, *extra):
        if not p.startswith("/"):
            raise VerifyError(f"{url}: the probe path {p!r} must start with '/'")
    return EntryPoint(url, parts.hostname, port, tuple(dict.fromkeys((health, *extra))))


def entry_points(target: Target) -> tuple[EntryPoint, ...]:
    """Validate the URLs and the environment labels; every entry point to probe."""
    if (
        target.expected_environment is not None
        and not target.allow_cross_environment
        and target.environment != target.expected_environment
    ):
        raise VerifyError(
            f"{target.url}: step environment {target.expected_environment!r} does not match "
            f"target environment {target.environment!r}; refusing to probe "
            "(allow it explicitly to cross environments)"
        )
    urls = list(dict.fromkeys((target.url, *target.endpoints)))
    return tuple(_entry(target, u) for u in urls)


def check_target(target: Target) -> tuple[str, int, str]:
    """Validate the target; (host, port, health path) of its first entry point."""
    first = entry_points(target)[0]
    return first.host, first.port, first.health


def describe_cert(chain: Path) -> str:
    """``SPIFFE-or-CN serial=HEX`` of the leaf, for evidence."""
    from cryptography import x509

    try:
        leaf = x509.load_pem_x509_certificates(Path(chain).read_bytes())[0]
    except (OSError, ValueError) as exc:
        raise VerifyError(
            f"{chain}: cannot read a PEM certificate ({exc.__class__.__name__})"
        ) from None
    name = leaf.subject.rfc4514_string() or "-"
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        if uris:
            name = uris[0]
    except x509.ExtensionNotFound:
        pass
    return f"cert {name} serial={leaf.serial_number:x}"


def _load(ident: CertIdentity, ca: Path) -> tuple[ssl.SSLContext, str]:
    try:
        ctx = client_context(ca, ident.chain, ident.key)
    except (OSError, ssl.SSLError) as exc:
        raise VerifyError(
            f"{ident.chain}: cannot load certificate/key ({exc.__class__.__name__}); "
            "check the paths and that the key matches"
        ) from None
    return ctx, describe_cert(ident.chain)


@dataclass(frozen=True)
class _Credentials:
    """Each identity's TLS context, built once and shared by every probe of a run."""

    bare: ssl.SSLContext
    controls: tuple[tuple[ssl.SSLContext, str], ...]
    foreign: tuple[ssl.SSLContext, str]
    revoked: tuple[ssl.SSLContext, str] | None
    other: tuple[ssl.SSLContext, str] | None
    token_peer: tuple[ssl.SSLContext, str] | None


def _credentials(identities: Identities) -> _Credentials:
    ca = identities.server_ca
    try:
        bare = client_context(ca)
    except (OSError, ssl.SSLError) as exc:
        raise VerifyError(
            f"{ca}: cannot load the server CA file ({exc.__class__.__name__})"
        ) from None
    controls = tuple(_load(c, ca) for c in identities.controls)
    if identities.foreign_cert is not None:
        foreign = _load(identities.foreign_cert, ca)
    else:
        from workbench.verify.foreign import lookalike_context

        look = lookalike_context(identities.new_cert.chain, ca)
        foreign = (look, f"throwaway foreign CA, look-alike of {controls[0][1]}")
    return _Credentials(
        bare,
        controls,
        foreign,
        _load(identities.revoked_cert, ca) if identities.revoked_cert else None,
        _load(identities.other_service_cert, ca) if identities.other_service_cert else None,
        _load(identities.token_peer_cert, ca) if identities.token_peer_cert else None,
    )


def prepare(
    identities: Identities,
    header: str,
    path: str,
    *,
    paths: Sequence[str] = (),
    presented_as: Sequence[str] = (),
    repeat: int = DEFAULT_REPEAT,
    credentials: _Credentials | None = None,
) -> tuple[ProbeSpec, ...]:
    """The probe list of one entry point: controls to ``path`` (the health path), negatives
    to ``path`` and every one of ``paths`` with each method, ``repeat`` times."""
    creds = credentials or _credentials(identities)
    old = identities.old_key
    token = identities.bearer_token
    forms = key_forms(header, presented_as)
    bearer = bearer_form()
    specs: list[ProbeSpec] = []
    tokens = (token, *identities.more_tokens) if token is not None else ()
    for i, (ctx, label) in enumerate(creds.controls):
        if token is not None:
            if i >= len(tokens):
                raise VerifyError(f"{label}: no bound token to present it with (mtls+token)")
            identity = f"{label} + bound token"
            specs.append(
                ProbeSpec(CONTROL, "accepted", ctx, identity, path, "GET", bearer, tokens[i])
            )
        else:
            specs.append(ProbeSpec(CONTROL, "accepted", ctx, label, path))
    old_id = f"old key fp={old.fingerprint}"
    for target_path in dict.fromkeys((path, *paths)):
        for method in METHODS:
            for attempt in range(1, repeat + 1):

                def add(
                    name: str,
                    ctx,
                    identity: str,
                    form: KeyForm | None = None,
                    secret=None,
                    where=(target_path, method, attempt),
                ):
                    p, m, a = where
                    specs.append(ProbeSpec(name, "refused", ctx, identity, p, m, form, secret, a))

                add(NO_CREDENTIALS, creds.bare, "none")
                for form in forms:
                    add(OLD_KEY, creds.bare, old_id, form, old)
                if creds.other is not None:
                    ctx, label = creds.other
                    for form in forms:
                        add(KEY_BESIDE_CERT, ctx, f"{old_id} beside {label}", form, old)
                    add("other-service-cert", ctx, label)
                add("foreign-ca-cert", *creds.foreign)
                if creds.revoked is not None:
                    add("revoked-cert", *creds.revoked)
                if token is not None:
                    ctx0, label0 = creds.controls[0]
                    add("cert-without-token", ctx0, label0)
                    add("token-without-cert", creds.bare, "bound token only", bearer, token)
                    if creds.token_peer is not None:
                        ctx, label = creds.token_peer
                        add("token-with-other-cert", ctx, f"{label} + another's bound token",
                            bearer, token)  # fmt: skip
    return tuple(specs)


def _host_header(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == 443 else f"{shown}:{port}"


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith("s") else f"{n} {word}s"


def scope_of(
    identities: Identities,
    target: Target,
    entries: Sequence[EntryPoint],
    addresses: Sequence[Sequence[str]],
    repeat: int,
    probes: int,
) -> dict:
    """What one run covers, as data and as the sentence the PASS line ends with."""
    forms = key_forms(target.header, target.presented_as)
    n_addr = [len(a) for a in addresses]
    paths = len(entries[0].paths) if entries else 0
    if len(set(n_addr)) <= 1:
        per_entry = _plural(n_addr[0] if n_addr else 0, "address")
        where = f"{_plural(len(entries), 'entry point')} x {per_entry}"
    else:
        where = f"{_plural(len(entries), 'entry point')}, {sum(n_addr)} addresses"
    beside = identities.other_service_cert is not None
    text = (
        f"{_plural(len(identities.controls), 'consumer')}, {where}, "
        f"{_plural(len(forms), 'key form')} (alone"
        + (" and beside another identity's certificate)" if beside else " only)")
        + f", {_plural(paths, 'path')} x {len(METHODS)} methods, {_plural(repeat, 'repeat')}"
    )
    return {
        "text": text,
        "consumers": len(identities.controls),
        "entry_points": [e.url for e in entries],
        "addresses": {e.url: list(a) for e, a in zip(entries, addresses, strict=True)},
        "key_forms": [f.label for f in forms],
        "key_beside_other_certificate": beside,
        "foreign_ca": "given" if identities.foreign_cert else "throwaway look-alike",
        "paths": list(entries[0].paths) if entries else [],
        "methods": list(METHODS),
        "repeat": repeat,
        "probes": probes,
    }


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


async def _run_jobs(
    jobs: Sequence[_Job],
    options: Options,
    user_agent: str,
    on_done: Callable[[_Job], None],
) -> None:
    queue: asyncio.Queue[tuple[_Job, int]] = asyncio.Queue()
    for job in jobs:
        for i, (_, _, where) in enumerate(job.items):
            if isinstance(where, PinnedHost):
                queue.put_nowait((job, i))
            else:
                job.results[i] = where
        if job.pending == 0:
            on_done(job)

    async def worker() -> None:
        while True:
            try:
                job, i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            _, spec, pinned = job.items[i]
            job.results[i] = await run_probe(
                spec, pinned, timeout=options.timeout, user_agent=user_agent
            )
            job.pending -= 1
            if job.pending == 0:
                on_done(job)

    n = max(1, min(options.concurrency, queue.qsize()))
    await asyncio.gather(*(worker() for _ in range(n)))


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
    creds: dict[Identities, _Credentials] = {}
    planned: list[_Job] = []
    for target, identities in jobs:
        entries = entry_points(target)
        try:
            key_forms(target.header, target.presented_as)
        except ValueError as exc:
            raise VerifyError(f"{target.name or target.url}: {exc}") from None
        if identities not in creds:
            creds[identities] = _credentials(identities)
        planned.append(_Job(target, identities, entries, now()))
    for job in planned:
        c = creds[job.identities]

        def specs_for(entry: EntryPoint, job: _Job = job, c: _Credentials = c):
            return prepare(
                job.identities,
                job.target.header,
                entry.health,
                paths=entry.paths[1:],
                presented_as=job.target.presented_as,
                repeat=options.repeat,
                credentials=c,
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
    from dataclasses import replace

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
    address; it must be accepted there before the change can prove anything."""
    from workbench.verify.verdict import decide_liveness

    options = options or Options()
    token, agent = _user_agent(options)
    entries = entry_points(target)
    bare = client_context(identities.server_ca)
    form = key_forms(target.header)[0]
    old = identities.old_key
    job = _Job(target, identities, entries, now())

    def specs_for(entry: EntryPoint) -> tuple[ProbeSpec, ...]:
        return (
            ProbeSpec(LIVE_PROBE, "accepted", bare, f"old key fp={old.fingerprint}",
                      entry.health, "GET", form, old),
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
