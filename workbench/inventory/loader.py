"""Load an inventory file (YAML, or the same structure as JSON) into an ``Inventory``.

Reading rules (format version 1, see ``sample_env/inventory.yaml``):

- The file goes through ``yamlsafe`` (no anchors, aliases, tags or duplicate keys; depth
  and size bounded). JSON is read by the same parser, so it gets the same locations.
- Text fields take the scalar as written. A *plain* (unquoted) scalar that YAML 1.1 tools
  would turn into something else (``NO``/``on`` -> bool, ``0777`` -> 511, ``1e3``, ``~``,
  dates) is a located type error in a text field: quote it. That keeps ids strings for every
  tool that reads the file, not just for this one.
- Dates are ``YYYY-MM-DD``, quoted or not. Counts are decimal integers. ``third_party`` is
  ``true``/``false``. An empty value or ``null`` means "not given".
- Unknown fields are errors with a "did you mean" hint. Every entity keeps its Location.
- Every string is checked for pasted secrets (req. 23) and unsafe characters; ids follow
  ``ids.SAFE_ID_PATTERN`` (req. 21). Cross-references are then checked by ``validate``.

All problems are collected; any problem raises ``InventoryError`` listing them all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection
from typing import Any

from workbench.errors import InventoryError, Problem
from workbench.inventory.fields import NULLS, FieldReader
from workbench.inventory.inputfile import read_input_text
from workbench.inventory.jsonstrict import comment_problem, looks_like_json, strict_json_problem
from workbench.inventory.model import (
    CHECKED_BY,
    EXPOSURES,
    FORMAT_VERSION,
    GATEWAY_KINDS,
    Api,
    Gateway,
    Integration,
    Inventory,
    Key,
    Location,
    Service,
)
from workbench.inventory.validate import (
    check_path,
    check_url,
    validate_inventory,
)
from workbench.inventory.yamlsafe import (
    Scalar,
    YMap,
    YSeq,
    gc_paused,
    json_escapes_for_yaml,
    parse_tree,
)
from workbench.inventory.yamlsafe import max_bytes as size_guard
from workbench.secrets import (
    is_workbench_env,
    note_old_key_env,
)

__all__ = ["MAX_PROBLEMS", "capped", "load_inventory", "loads_inventory", "read_tree"]

TOP_FIELDS = ("version", "trust_domain", "apis", "services", "keys", "integrations", "gateways")
API_FIELDS = (
    "id",
    "url",
    "health_path",
    "data_classes",
    "owner",
    "environment",
    "provided_by",
    "tags",
    "notes",
    "endpoints",
    "probe_paths",
)
SERVICE_FIELDS = (
    "id",
    "owner",
    "environment",
    "exposure",
    "third_party",
    "dns_names",
    "tags",
    "notes",
)
KEY_FIELDS = (
    "id",
    "api",
    "header",
    "secret_ref",
    "created",
    "last_rotated",
    "found_in",
    "fingerprint",
    "tags",
    "notes",
    "checked_by",
    "presented_as",
)
GATEWAY_FIELDS = (
    "id",
    "kind",
    "apis",
    "listen",
    "config",
    "validate",
    "reload",
    "access_log",
    "upstreams",
    "server_cert",
    "server_key",
    "authorization_server",
)
INTEGRATION_FIELDS = ("consumer", "key", "calls_per_day")

_ENV_REF = re.compile(r"env:[A-Za-z_][A-Za-z0-9_]{0,127}")
_FINGERPRINT = re.compile(r"(?:sha1:|sha256:)?[0-9a-f]{12}")
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
# The same grammar as workbench.verify.forms (the verifier sits above the inventory).
_PRESENTED_AS = re.compile(
    r"basic|(?:header|authorization):[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}|query:[A-Za-z0-9._~-]{1,64}"
)
_DNS = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


MAX_PROBLEMS = 200
"""At most this many problems are reported; the rest are counted in a last line."""


def capped(problems: list[Problem], filename: str) -> list[Problem]:
    """``problems``, or its first ``MAX_PROBLEMS`` and a line counting the rest."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return [
        *problems[:MAX_PROBLEMS],
        Problem(filename, 0, 0, f"... and {more} more problems not shown"),
    ]


def _raise(problems: list[Problem], filename: str) -> None:
    raise InventoryError(capped(problems, filename))


def load_inventory(
    path: str | os.PathLike[str],
    *,
    known_data_classes: Collection[str] | None = None,
    max_bytes: int | None = None,
) -> Inventory:
    """Read and validate an inventory file; raise ``InventoryError`` with every problem.

    Files over ``max_bytes`` (default: the limit in force, 64 MiB; see
    ``yamlsafe.size_limit``) are refused before they are read.
    """
    limit = size_guard(max_bytes)
    text, name = read_input_text(path, error=InventoryError, limit=limit)
    return loads_inventory(text, name, known_data_classes=known_data_classes, max_bytes=limit)


def loads_inventory(
    text: str,
    filename: str = "-",
    *,
    known_data_classes: Collection[str] | None = None,
    max_bytes: int | None = None,
) -> Inventory:
    """Parse and validate inventory text; ``filename`` is used in locations."""
    with gc_paused():
        return _loads(text, filename, known_data_classes, max_bytes)


def _loads(
    text: str, filename: str, known_data_classes: Collection[str] | None, max_bytes: int | None
) -> Inventory:
    bad = comment_problem(text, filename)
    if bad is None and looks_like_json(text):
        # JSON (as json.dump writes it) must be strict JSON; see jsonstrict and yamlsafe
        bad = strict_json_problem(text, filename)
        text = json_escapes_for_yaml(text)
    if bad is not None:
        _raise([bad], filename)
    tree, problems = parse_tree(text, filename, limit=max_bytes)
    if tree is None and not problems:
        problems.append(Problem(filename, 0, 0, "file is empty; start with 'version: 1'"))
    if tree is None or problems:
        # Aliases read as empty values, a duplicate key drops one value: checking the
        # fields of such a tree would add a line per consequence of one mistake.
        _raise(problems, filename)
    reader = _Reader(filename, problems)
    inv = reader.inventory(tree)
    # Processes started from now on must not inherit these (req. 29), even if invalid.
    note_old_key_env(reader.old_key_env)
    problems.extend(
        validate_inventory(
            inv,
            known_data_classes=known_data_classes,
            check_fields=False,
            unchecked_refs=reader.refused_ids,
        )
    )
    if problems:
        problems.sort(key=lambda p: (p.line, p.col))  # stable: same place keeps its order
        _raise(problems, filename)
    return inv


def read_tree(tree: Any, filename: str) -> tuple[Inventory, list[Problem]]:
    """Model objects from a located tree (as ``yamlsafe.parse_tree`` makes), and problems.

    Importers build such trees from other formats (CSV) to get the same field checks.
    Cross-references are not checked here; see ``validate.validate_inventory``.
    """
    problems: list[Problem] = []
    return _Reader(filename, problems).inventory(tree), problems


class _Reader(FieldReader):
    """Turns a located tree into model objects, adding a problem for every mistake."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.file = filename
        self.problems = problems
        self.old_key_env: list[str] = []
        self.refused_ids: set[str] = set()

    def err(self, node: Any, message: str) -> None:
        self.problems.append(Problem(self.file, node.line, node.col, message))

    def inventory(self, tree: Any) -> Inventory:
        if type(tree) is not YMap:
            self.err(tree, "expected a mapping at the top (version: 1, apis:, services:, ...)")
            return Inventory(source=self.file)
        self.fields(tree, TOP_FIELDS, "the inventory")
        version = self.integer(tree, "version", required=True)
        if version is not None and version != FORMAT_VERSION:
            self.err(tree["version"], f"unsupported version {version}; this reads version 1")
        td = self.text(tree, "trust_domain")
        if td is not None and not _DNS.fullmatch(td):
            self.err(
                tree["trust_domain"], "trust_domain must be a lowercase DNS name like acme.test"
            )
        inv = Inventory(
            apis=self.section(tree, "apis", self.api),
            services=self.section(tree, "services", self.service),
            keys=self.section(tree, "keys", self.key),
            integrations=self.section(tree, "integrations", self.integration),
            version=version or FORMAT_VERSION,
            trust_domain=td,
            gateways=self.section(tree, "gateways", self.gateway),
            source=self.file,
        )
        if inv.gateways:
            from workbench.inventory.gateways import check_gateways

            check_gateways(inv, self.err_at)
        return inv

    def err_at(self, where: Location | None, message: str) -> None:
        line, col = (where.line, where.col) if where else (0, 0)
        self.problems.append(Problem(self.file, line, col, message))

    def section(self, tree: YMap, name: str, build: Callable[[YMap], Any]) -> tuple:
        node = tree.get(name)
        if node is None or (type(node) is Scalar and node.plain and node.value in NULLS):
            return ()
        if type(node) is not YSeq:
            self.err(node, f"{name} must be a list of mappings ('- id: ...')")
            return ()
        out = []
        for item in node:
            if type(item) is not YMap:
                self.err(item, f"each entry of {name} must be a mapping")
                continue
            obj = build(item)
            if obj is not None:
                out.append(obj)
        return tuple(out)

    # -- entities ---------------------------------------------------------------------

    def api(self, m: YMap) -> Api:
        self.fields(m, API_FIELDS, "an api")
        api_id = self.ident(m, "id", "api")
        before = len(self.problems)
        url = self.text(m, "url", required=True)
        if url is not None and len(self.problems) == before:
            why = check_url(url)
            if why:
                self.err(m["url"], f"url {why}")
        before = len(self.problems)
        health = self.text(m, "health_path")
        if health is not None and len(self.problems) == before and (why := check_path(health)):
            self.err(m["health_path"], f"health_path {why}")
        endpoints = self.texts(m, "endpoints")
        for i, other in enumerate(endpoints):
            why = check_url(other)
            if why:
                self.err(m["endpoints"][i], f"endpoints entry {why}")
        probe_paths = self.texts(m, "probe_paths")
        for i, path in enumerate(probe_paths):
            why = check_path(path)
            if why:
                self.err(m["probe_paths"][i], f"probe_paths entry {why}")
        api = Api(
            id=api_id or "",
            url=url or "",
            data_classes=self.texts(m, "data_classes", required=True),
            owner=self.text(m, "owner", required=True) or "",
            environment=self.ident(m, "environment", "environment") or "",
            health_path=health,
            provided_by=self.text(m, "provided_by"),
            tags=self.texts(m, "tags"),
            notes=self.text(m, "notes"),
            location=Location(self.file, m.line, m.col),
            endpoints=endpoints,
            probe_paths=probe_paths,
        )
        return api

    def service(self, m: YMap) -> Service:
        self.fields(m, SERVICE_FIELDS, "a service")
        exposure = self.text(m, "exposure", required=True)
        if exposure is not None and exposure not in EXPOSURES:
            self.err(m["exposure"], f"exposure must be one of {', '.join(EXPOSURES)}")
        dns = self.texts(m, "dns_names")
        for i, name in enumerate(dns):
            if not _DNS.fullmatch(name):
                self.err(m["dns_names"][i], "dns_names entries must be lowercase DNS names")
        svc = Service(
            id=self.ident(m, "id", "service") or "",
            owner=self.text(m, "owner", required=True) or "",
            environment=self.ident(m, "environment", "environment") or "",
            exposure=exposure or "internal",
            third_party=self.boolean(m, "third_party"),
            dns_names=dns,
            tags=self.texts(m, "tags"),
            notes=self.text(m, "notes"),
            location=Location(self.file, m.line, m.col),
        )
        return svc

    def key(self, m: YMap) -> Key:
        self.fields(m, KEY_FIELDS, "a key")
        ref = self.text(m, "secret_ref")
        if ref is not None and not (
            _ENV_REF.fullmatch(ref) or (ref.startswith("file:") and len(ref) > 5)
        ):
            self.err(
                m["secret_ref"],
                "secret_ref must be env:NAME or file:PATH "
                "(where the key lives, never the key itself)",
            )
        elif ref is not None and ref.startswith("env:"):
            if is_workbench_env(ref[4:]):
                self.err(
                    m["secret_ref"],
                    f"secret_ref {ref} names one of the workbench's own variables "
                    "(WORKBENCH_*, Vault tokens), not an old key; use the old key's variable",
                )
            else:
                self.old_key_env.append(ref[4:])
        header = self.text(m, "header")
        if header is not None and not _HEADER.fullmatch(header):
            self.err(m["header"], "header must be an HTTP header name like X-API-Key")
        presented = self.texts(m, "presented_as")
        for i, text in enumerate(presented):
            if not _PRESENTED_AS.fullmatch(text):
                self.err(
                    m["presented_as"][i],
                    "presented_as entries must be header:NAME, query:NAME, "
                    "authorization:SCHEME or basic",
                )
        fp = self.text(m, "fingerprint", scan=False)
        if fp is not None and not _FINGERPRINT.fullmatch(fp):
            self.err(
                m["fingerprint"],
                "fingerprint must be 12 lowercase hex digits "
                "(optionally prefixed sha256: or sha1:), never the key itself",
            )
        key = Key(
            id=self.ident(m, "id", "key") or "",
            api=self.text(m, "api", required=True) or "",
            header=header or "X-API-Key",
            secret_ref=ref,
            created=self.day(m, "created"),
            last_rotated=self.day(m, "last_rotated"),
            found_in=self.texts(m, "found_in"),
            fingerprint=fp,
            tags=self.texts(m, "tags"),
            notes=self.text(m, "notes"),
            checked_by=self.choice(m, "checked_by", CHECKED_BY) or "gateway",
            location=Location(self.file, m.line, m.col),
            presented_as=presented,
        )
        return key

    def gateway(self, m: YMap) -> Gateway:
        from workbench.inventory.gateways import read_gateway

        self.fields(m, GATEWAY_FIELDS, "a gateway")
        return read_gateway(self, m, GATEWAY_KINDS)

    def choice(self, m: YMap, name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.text(m, name)
        if value is not None and value not in allowed:
            self.err(m[name], f"{name} must be one of {', '.join(allowed)}")
            return None
        return value

    def integration(self, m: YMap) -> Integration:
        if len(m) > 3 or not m.keys() <= _INTEGRATION_SET:
            self.fields(m, INTEGRATION_FIELDS, "an integration")
        i = Integration(
            consumer=self.text(m, "consumer", required=True) or "",
            key=self.text(m, "key", required=True) or "",
            calls_per_day=self.integer(m, "calls_per_day"),
            location=Location(self.file, m.line, m.col),
        )
        return i


_INTEGRATION_SET = frozenset(INTEGRATION_FIELDS)
