"""Run the probes of one target (or a wave of targets) and judge them (requirements 14-18).

One run = resolve the host once, then probe that IP with the original host as SNI and Host
header: positive control (new cert), old key alone, no credentials, then any optional
negatives (foreign-CA, revoked, other service's cert). Each probe opens a fresh connection
with a fresh TLS session; no redirect is followed.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from workbench.errors import VerifyError
from workbench.secrets import SecretValue
from workbench.verify.classify import Outcome
from workbench.verify.probe import (
    PinnedHost,
    ProbeEvidence,
    ProbeSpec,
    client_context,
    is_ip_literal,
    run_probe,
)
from workbench.verify.verdict import CONTROL, NO_CREDENTIALS, OLD_KEY, Verdict, decide

__all__ = [
    "CertIdentity",
    "Identities",
    "Target",
    "VerifyResult",
    "check_target",
    "prepare",
    "run_verify",
    "run_verify_many",
    "verify_many",
    "verify_target",
]

DEFAULT_TIMEOUT = 5.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Target:
    """One endpoint to verify."""

    url: str
    """``https://host[:port]/...``: host and port to pin; its path is probed unless ``path``."""
    header: str = "X-API-Key"
    """Header the old key travels in."""
    environment: str | None = None
    """Environment label of the target (e.g. ``prod``, ``staging``)."""
    expected_environment: str | None = None
    """Environment of the step asking for the probe; must match ``environment`` (req. 18)."""
    path: str | None = None
    """Health/API path to probe instead of the URL's own path."""
    allow_cross_environment: bool = False
    """Set only when the operator explicitly allows probing another environment."""
    name: str = ""
    """Label for reports (e.g. the key id)."""


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
    """The certificate that should now be accepted (positive control)."""
    old_key: SecretValue
    """The old static key that should now be refused."""
    server_ca: Path
    """CA file trusted for the server's certificate."""
    foreign_cert: CertIdentity | None = None
    """A cert from another CA: must be refused."""
    revoked_cert: CertIdentity | None = None
    """A revoked cert from the right CA: must be refused."""
    other_service_cert: CertIdentity | None = None
    """A valid cert of another service: must be refused (403 or TLS)."""
    bearer_token: SecretValue | None = None
    """In ``mtls+token`` mode: an access token bound to ``new_cert`` (RFC 8705). The control
    then presents both, and three more probes must be refused: the certificate without the
    token, the token without a certificate, and the token with ``token_peer_cert``."""
    token_peer_cert: CertIdentity | None = None
    """Another service's valid certificate (ideally one the API authorises) to present the
    bound token with: the binding, not the allow-list, must refuse it."""


@dataclass(frozen=True)
class VerifyResult:
    """A target and its verdict."""

    target: Target
    """What was probed."""
    verdict: Verdict
    """The judgement with every probe's evidence."""


def check_target(target: Target) -> tuple[str, int, str]:
    """Validate the URL and the environment labels; return (host, port, path)."""
    parts = urlsplit(target.url)
    if parts.scheme != "https":
        raise VerifyError(f"{target.url}: only https:// URLs can be verified")
    if not parts.hostname or parts.username or parts.password:
        raise VerifyError(f"{target.url}: need https://HOST[:PORT]/PATH without user info")
    try:
        port = parts.port or 443
    except ValueError:
        raise VerifyError(f"{target.url}: the port is not a number 1-65535") from None
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
    path = target.path or parts.path or "/"
    if parts.query and not target.path:
        path += "?" + parts.query
    if not path.startswith("/"):
        raise VerifyError(f"{target.url}: the probe path must start with '/'")
    return parts.hostname, port, path


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


def prepare(identities: Identities, header: str, path: str) -> tuple[ProbeSpec, ...]:
    """Build each identity's TLS context once and the probe list of one run."""
    ca = identities.server_ca
    try:
        bare = client_context(ca)
    except (OSError, ssl.SSLError) as exc:
        raise VerifyError(
            f"{ca}: cannot load the server CA file ({exc.__class__.__name__})"
        ) from None
    new_ctx, new_id = _load(identities.new_cert, ca)
    old = identities.old_key
    token = identities.bearer_token
    bearer: tuple[str | None, SecretValue | None] = (None, None)
    if token is not None:
        bearer = ("Authorization", SecretValue(f"Bearer {token.reveal()}"))
    specs = [
        ProbeSpec(
            CONTROL,
            "accepted",
            new_ctx,
            f"{new_id}{' + bound token' if token else ''}",
            path,
            *bearer,
        ),
        ProbeSpec(OLD_KEY, "refused", bare, f"old key fp={old.fingerprint}", path, header, old),
        ProbeSpec(NO_CREDENTIALS, "refused", bare, "none", path),
    ]
    for name, ident in (
        ("foreign-ca-cert", identities.foreign_cert),
        ("revoked-cert", identities.revoked_cert),
        ("other-service-cert", identities.other_service_cert),
    ):
        if ident is not None:
            ctx, label = _load(ident, ca)
            specs.append(ProbeSpec(name, "refused", ctx, label, path))
    if token is not None:
        specs.append(ProbeSpec("cert-without-token", "refused", new_ctx, new_id, path))
        specs.append(
            ProbeSpec("token-without-cert", "refused", bare, "bound token only", path, *bearer)
        )
        if identities.token_peer_cert is not None:
            ctx, label = _load(identities.token_peer_cert, ca)
            specs.append(
                ProbeSpec(
                    "token-with-other-cert",
                    "refused",
                    ctx,
                    f"{label} + another's bound token",
                    path,
                    *bearer,
                )
            )
    return tuple(specs)


async def _pin(host: str, port: int) -> PinnedHost | BaseException:
    host_header = host if port == 443 else f"{host}:{port}"
    if ":" in host:
        host_header = f"[{host}]" if port == 443 else f"[{host}]:{port}"
    if is_ip_literal(host):  # nothing to resolve: skip the executor round trip of getaddrinfo
        return PinnedHost(host=host, ip=host, port=port, host_header=host_header)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return exc
    return PinnedHost(host=host, ip=str(infos[0][4][0]), port=port, host_header=host_header)


async def verify_target(
    target: Target,
    identities: Identities,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    now: Callable[[], datetime] = _utcnow,
    specs: Sequence[ProbeSpec] | None = None,
) -> VerifyResult:
    """Probe one target and judge it. Raises VerifyError only for bad arguments (req. 18);
    anything the network does becomes evidence and a verdict."""
    host, port, path = check_target(target)
    if specs is None:
        specs = prepare(identities, target.header, path)
    started = now()
    pinned = await _pin(host, port)
    url = f"https://{host if ':' not in host else '[' + host + ']'}:{port}{path}"
    observations: list[tuple[str, ProbeEvidence]] = []
    if isinstance(pinned, BaseException):
        for spec in specs:
            ev = ProbeEvidence(
                name=spec.name, url=url, ip="", port=port, sni=host, host_header=host,
                identity=spec.identity, outcome=Outcome.DNS,
                error_class=type(pinned).__name__, error_reason=f"cannot resolve {host}",
            )  # fmt: skip
            observations.append((spec.expected, ev))
    else:
        for spec in specs:
            ev = await run_probe(spec, pinned, timeout=timeout, scheme_url=url)
            observations.append((spec.expected, ev))
    verdict = decide(observations, started=started, finished=now())
    return VerifyResult(target, verdict)


async def verify_many(
    jobs: Sequence[tuple[Target, Identities]],
    *,
    concurrency: int = 8,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[VerifyResult], None] | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> list[VerifyResult]:
    """Verify a wave with at most ``concurrency`` targets in flight (a fixed pool of worker
    coroutines); probes of one target run one after another. Results keep the input order.
    Argument errors (req. 18, unreadable certs) are raised before any probe is sent."""
    prepared: list[tuple[Target, Identities, str]] = []
    for target, identities in jobs:
        _, _, path = check_target(target)
        prepared.append((target, identities, path))
    # Contexts are built once per distinct identity set, before the first probe (unreadable
    # credentials fail the wave early). Workers share them: an SSLContext holds no
    # connection or client session state (each probe gets its own SSLObject, and
    # ``session_reused`` in the evidence shows it), so per-worker copies would only cost
    # ~1.5 ms each.
    specs_by_key: dict[tuple, tuple[ProbeSpec, ...]] = {}
    for target, identities, path in prepared:
        key = (identities, target.header, path)
        if key not in specs_by_key:
            specs_by_key[key] = prepare(identities, target.header, path)
    results: list[VerifyResult | None] = [None] * len(prepared)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(prepared)):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            target, identities, path = prepared[i]
            specs = specs_by_key[(identities, target.header, path)]
            res = await verify_target(target, identities, timeout=timeout, now=now, specs=specs)
            results[i] = res
            if progress is not None:
                progress(res)

    n = max(1, min(concurrency, len(prepared)))
    await asyncio.gather(*(worker() for _ in range(n)))
    return [r for r in results if r is not None]


def run_verify(
    target: Target,
    identities: Identities,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    now: Callable[[], datetime] = _utcnow,
) -> VerifyResult:
    """Synchronous wrapper for one target (CLI, notebooks)."""
    return asyncio.run(verify_target(target, identities, timeout=timeout, now=now))


def run_verify_many(
    jobs: Sequence[tuple[Target, Identities]],
    *,
    concurrency: int = 8,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[VerifyResult], None] | None = None,
) -> list[VerifyResult]:
    """Synchronous wrapper for a wave."""
    coro = verify_many(jobs, concurrency=concurrency, timeout=timeout, progress=progress)
    return asyncio.run(coro)
