"""What a verification run is about: the target, the identities it presents, the options.

Plain immutable values; :func:`entry_points` validates a target's URLs and environment
labels (requirement 18) before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from workbench.errors import VerifyError
from workbench.secrets import SecretValue
from workbench.verify.probe import USER_AGENT
from workbench.verify.resolve import ConnectTo, Resolver
from workbench.verify.verdict import Verdict

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_REPEAT",
    "DEFAULT_TIMEOUT",
    "CertIdentity",
    "EntryPoint",
    "Identities",
    "Options",
    "RunInfo",
    "Target",
    "VerifyResult",
    "check_target",
    "entry_points",
]

DEFAULT_TIMEOUT = 5.0
DEFAULT_REPEAT = 5
DEFAULT_CONCURRENCY = 16


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
