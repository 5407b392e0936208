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
    "EXPOSURES",
    "FORMAT_VERSION",
    "Api",
    "Finding",
    "Integration",
    "Inventory",
    "Key",
    "Location",
    "Service",
    "Severity",
]

FORMAT_VERSION = 1
EXPOSURES = ("internet", "partner", "internal")


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
    location: Location | None = field(default=None, compare=False, repr=False)
    """Where it was declared."""


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
