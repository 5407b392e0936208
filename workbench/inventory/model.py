"""The integration inventory: immutable value objects, no I/O.

Every entity remembers where it was declared (``location``) so later checks can report
``FILE:LINE:COL``. Locations do not take part in equality.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

from workbench.errors import UnknownIdError

__all__ = [
    "DEFAULT_TRUST_DOMAIN",
    "EXPOSURES",
    "FORMAT_VERSION",
    "Api",
    "AuthorizationServer",
    "Finding",
    "Gateway",
    "Integration",
    "Inventory",
    "Key",
    "Location",
    "Service",
    "Severity",
]

FORMAT_VERSION = 1
DEFAULT_TRUST_DOMAIN = "workbench.local"
"""The one trust domain used when an inventory names none: the workspace's CA, the gateways'
allow-lists and the lab's token server all derive identities from it (req. 34)."""
EXPOSURES = ("internet", "partner", "internal")
GATEWAY_KINDS = ("nginx", "haproxy", "manual", "lab")
CHECKED_BY = ("gateway", "backend")


@dataclass(frozen=True, order=True)
class Location:
    """Where something was declared in an input file."""

    file: str
    """The file as the user named it."""
    line: int
    """1-based line."""
    col: int
    """1-based column."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Api:
    """A provider that accepts static keys today."""

    id: str
    """Unique id across APIs."""
    url: str
    """Base URL a verifier will probe (https)."""
    data_classes: tuple[str, ...]
    """Sensitivity labels (pci, phi, pii, internal, public, ...); a policy maps them to weights."""
    owner: str
    """Owning team."""
    environment: str
    """prod, staging, dev, ..."""
    health_path: str | None = None
    """Optional GET path answering 2xx to an authorised caller (relative to ``url``)."""
    provided_by: str | None = None
    """The service that serves this API, if it is in the inventory."""
    tags: tuple[str, ...] = ()
    """Free labels."""
    notes: str | None = None
    """Free text for humans."""
    location: Location | None = field(default=None, compare=False, repr=False)
    """Where it was declared."""
    endpoints: tuple[str, ...] = ()
    """Other base URLs where the same API is reachable (another host name, a second region,
    the backend's own port): the verifier probes each like ``url``."""
    probe_paths: tuple[str, ...] = ()
    """More paths (relative to ``url``, e.g. ``/v1/charges``) the verifier's negative probes
    go to, besides ``health_path``."""


@dataclass(frozen=True)
class Service:
    """A consumer of APIs."""

    id: str
    """Unique id across services."""
    owner: str
    """Owning team."""
    environment: str
    """prod, staging, dev, ..."""
    exposure: str = "internal"
    """internet | partner | internal: how reachable the consumer itself is."""
    third_party: bool = False
    """Run by a partner or vendor rather than in-house."""
    dns_names: tuple[str, ...] = ()
    """Extra DNS SANs for its client certificate."""
    tags: tuple[str, ...] = ()
    """Free labels."""
    notes: str | None = None
    """Free text for humans."""
    location: Location | None = field(default=None, compare=False, repr=False)
    """Where it was declared."""


@dataclass(frozen=True)
class Key:
    """A static key to retire. Only a reference to its value is ever held, never the value."""

    id: str
    """Unique id across keys; the unit of migration (a plan step)."""
    api: str
    """The API that accepts it."""
    header: str = "X-API-Key"
    """HTTP header the key is presented in."""
    secret_ref: str | None = None
    """Where the value lives: ``env:NAME`` or ``file:PATH``. Never the value."""
    created: date | None = None
    """When the key was created."""
    last_rotated: date | None = None
    """When it was last rotated, if ever."""
    found_in: tuple[str, ...] = ()
    """Places the key was seen (``repo:path``, ``ci:var``, ``ticket:ID`` ...)."""
    fingerprint: str | None = None
    """Identifier of the value from a scanner (hash prefix), never the value."""
    tags: tuple[str, ...] = ()
    """Free labels."""
    notes: str | None = None
    """Free text for humans."""
    checked_by: str = "gateway"
    """Who checks the key today: ``gateway`` (the rendered config) or ``backend`` (the backend
    itself; in dual/mtls the edge presents the key upstream for an authorised certificate)."""
    location: Location | None = field(default=None, compare=False, repr=False)
    """Where it was declared."""
    presented_as: tuple[str, ...] = ()
    """More forms the key travels in besides ``header`` (``header:NAME``, ``query:NAME``,
    ``authorization:SCHEME``, ``basic``): the verifier probes them too."""


@dataclass(frozen=True)
class AuthorizationServer:
    """The company's OAuth authorization server whose RFC 8705 certificate-bound access tokens
    an operator gateway accepts in mode ``mtls+token`` (a gateway entry's
    ``authorization_server``)."""

    issuer: str
    """The tokens' ``iss``, exactly as the server writes it."""
    signing_keys: tuple[str, ...]
    """PEM public key files (``-----BEGIN PUBLIC KEY-----``), one key per file, relative to the
    inventory file; several while the server rotates its key."""
    token_endpoint: str | None = None
    """Where the verifier gets bound tokens for its probes (``client_credentials`` with the
    consumer's certificate, RFC 8705 ``tls_client_auth``); without it mtls+token is not proved."""
    ca: str | None = None
    """CA bundle for ``token_endpoint``'s TLS certificate (default: the system's CAs)."""
    location: Location | None = field(default=None, compare=False, repr=False)
    """Where it was declared."""


@dataclass(frozen=True)
class Gateway:
    """A gateway the workbench drives: it owns one config file the operator's config includes."""

    id: str
    """Unique id across gateways."""
    kind: str
    """``nginx``, ``haproxy``, ``manual`` or ``lab`` (the built-in sample)."""
    apis: tuple[str, ...]
    """The APIs it fronts."""
    listen: str | None = None
    """``host:port`` of the TLS listener the workbench renders."""
    config: str | None = None
    """The one file the workbench owns and rewrites (relative: to the inventory file)."""
    validate: tuple[str, ...] = ()
    """argv run before every change; a non-zero exit refuses the change."""
    reload: tuple[str, ...] = ()
    """argv run once the new file is in place."""
    access_log: str | None = None
    """Where the rendered config logs, in the workbench's JSON Lines format."""
    upstreams: tuple[tuple[str, str], ...] = ()
    """(API id, ``http(s)://host:port``) pairs: where each API's backend listens."""
    server_cert: str | None = None
    """Optional listener certificate (chain); default: issued from the workspace CA."""
    server_key: str | None = None
    """Its private key."""
    authorization_server: AuthorizationServer | None = None
    """Whose bound tokens mode ``mtls+token`` accepts (HAProxy only)."""
    location: Location | None = field(default=None, compare=False, repr=False)
    """Where it was declared."""

    def upstream(self, api_id: str) -> str | None:
        return dict(self.upstreams).get(api_id)


@dataclass(frozen=True)
class Integration:
    """A consumer using a key."""

    consumer: str
    """Service id."""
    key: str
    """Key id."""
    calls_per_day: int | None = None
    """Optional traffic estimate."""
    location: Location | None = field(default=None, compare=False, repr=False)
    """Where it was declared."""


class Severity(StrEnum):
    """How loudly a finding should be raised."""

    INFO = "info"
    WARNING = "warning"
    HIGH = "high"


@dataclass(frozen=True)
class Finding:
    """A risky but legal fact about the inventory (not an error)."""

    code: str
    """Stable machine name, e.g. ``key-spans-environments``."""
    severity: Severity
    """How loudly to raise it."""
    subject: str
    """The id the finding is about."""
    message: str
    """One human sentence."""
    location: Location | None = field(default=None, compare=False)
    """Where the subject was declared."""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity.value}: {self.code}: {self.message}"


@dataclass(frozen=True)
class Inventory:
    """A whole inventory. Build it with the loader, an importer, or directly in code."""

    apis: tuple[Api, ...] = ()
    services: tuple[Service, ...] = ()
    keys: tuple[Key, ...] = ()
    integrations: tuple[Integration, ...] = ()
    version: int = FORMAT_VERSION
    """Format version of the file it came from."""
    trust_domain: str | None = None
    """SPIFFE trust domain for client identities (``spiffe://<trust_domain>/<env>/<service>``)."""
    gateways: tuple[Gateway, ...] = ()
    """Gateways the workbench drives; an API no gateway names is served by the ``lab``."""
    source: str | None = field(default=None, compare=False)
    """Path it was loaded from."""

    @cached_property
    def apis_by_id(self) -> Mapping[str, Api]:
        return MappingProxyType({a.id: a for a in self.apis})

    @cached_property
    def services_by_id(self) -> Mapping[str, Service]:
        return MappingProxyType({s.id: s for s in self.services})

    @cached_property
    def keys_by_id(self) -> Mapping[str, Key]:
        return MappingProxyType({k.id: k for k in self.keys})

    @cached_property
    def consumers_by_key(self) -> Mapping[str, tuple[str, ...]]:
        """Key id -> consumer service ids, in declaration order, without repeats."""
        # dicts as ordered sets: a key shared by thousands of services stays linear
        out: dict[str, dict[str, None]] = {k.id: {} for k in self.keys}
        for i in self.integrations:
            out.setdefault(i.key, {})[i.consumer] = None
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @property
    def effective_trust_domain(self) -> str:
        """``trust_domain``, or :data:`DEFAULT_TRUST_DOMAIN` when the inventory names none."""
        return self.trust_domain or DEFAULT_TRUST_DOMAIN

    def gateway_of(self, api_id: str) -> Gateway | None:
        """The declared gateway fronting ``api_id`` (None: the built-in lab)."""
        for g in self.gateways:
            if api_id in g.apis:
                return g
        return None

    def api(self, api_id: str) -> Api:
        """The API ``api_id``; ``UnknownIdError`` (a KeyError) naming the nearest ids."""
        try:
            return self.apis_by_id[api_id]
        except KeyError:
            raise UnknownIdError("api", api_id, self.apis_by_id) from None

    def service(self, service_id: str) -> Service:
        """The service ``service_id``; ``UnknownIdError`` (a KeyError) naming the nearest ids."""
        try:
            return self.services_by_id[service_id]
        except KeyError:
            raise UnknownIdError("service", service_id, self.services_by_id) from None

    def key(self, key_id: str) -> Key:
        """The key ``key_id``; ``UnknownIdError`` (a KeyError) naming the nearest ids."""
        try:
            return self.keys_by_id[key_id]
        except KeyError:
            raise UnknownIdError("key", key_id, self.keys_by_id) from None

    def consumers_of(self, key_id: str) -> tuple[str, ...]:
        return self.consumers_by_key.get(key_id, ())
