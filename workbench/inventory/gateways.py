"""The inventory's ``gateways:`` section: read one entry, and check them against the APIs.

Kept apart from the loader so the loader stays one reader of the common entities; the field
readers (``text``, ``texts``, ``ident``) and the problem list are the loader's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from workbench.inventory.model import AuthorizationServer, Gateway, Inventory, Location
from workbench.inventory.yamlsafe import Scalar, YMap, YSeq

__all__ = ["check_gateways", "read_gateway"]

_LISTEN = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$|^\[[0-9a-fA-F:.]+\]:[0-9]{1,5}$")
# argv words and paths go into subprocess argv (never a shell) and config files: no controls,
# no quotes, no spaces, no config syntax characters.
_WORD = re.compile(r"^[A-Za-z0-9_./@+:=,%-]{1,512}$")
_PATH = re.compile(r"^[A-Za-z0-9_./@+-]{1,1024}$")
# An issuer goes into the HAProxy config single-quoted: no quote, backslash, $ or space.
_ISSUER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]{1,500}$")
AS_FIELDS = ("issuer", "signing_keys", "token_endpoint", "ca")
DRIVEN_KINDS = ("nginx", "haproxy")
"""Kinds whose files the workbench writes and reloads itself."""


def read_gateway(r: Any, m: YMap, kinds: tuple[str, ...]) -> Gateway:
    """One gateway entry (``r`` is the loader's reader: its field readers and problems)."""
    kind = r.text(m, "kind", required=True)
    if kind is not None and kind not in kinds:
        r.err(m["kind"], f"kind must be one of {', '.join(kinds)}")
    listen = r.text(m, "listen")
    if listen is not None and not _LISTEN.match(listen):
        r.err(m["listen"], "listen must be host:port, e.g. 127.0.0.1:9443")
    paths = {}
    for name in ("config", "access_log", "server_cert", "server_key"):
        value = r.text(m, name, scan=False)
        if value is not None and not _PATH.match(value):
            r.err(m[name], f"{name} must be a plain path ([A-Za-z0-9_./@+-], no spaces or quotes)")
        elif value is not None:
            _scan_parts(r, m[name], name, value)
        paths[name] = value
    if (paths["server_cert"] is None) != (paths["server_key"] is None):
        r.err(m, "give server_cert and server_key together (or neither: the workspace CA issues)")
    gw = Gateway(
        id=r.ident(m, "id", "gateway") or "",
        kind=kind or "",
        apis=r.texts(m, "apis", required=True),
        listen=listen,
        config=paths["config"],
        validate=_argv(r, m, "validate"),
        reload=_argv(r, m, "reload"),
        access_log=paths["access_log"],
        upstreams=_upstreams(r, m),
        server_cert=paths["server_cert"],
        server_key=paths["server_key"],
        authorization_server=_authorization_server(r, m.get("authorization_server"), kind),
        location=Location(r.file, m.line, m.col),
    )
    if gw.kind in DRIVEN_KINDS:
        for name in ("listen", "config", "reload", "access_log"):
            if not getattr(gw, name):
                r.err(m, f"gateway {gw.id}: a {gw.kind} gateway needs {name}")
        missing = [a for a in gw.apis if a not in dict(gw.upstreams)]
        if missing:
            r.err(m, f"gateway {gw.id}: upstreams has no URL for {', '.join(missing)}")
    return gw


def _authorization_server(r: Any, node: Any, kind: str | None) -> AuthorizationServer | None:
    """The ``authorization_server`` map: whose bound tokens ``mtls+token`` accepts."""
    if node is None:
        return None
    where = "authorization_server"
    if type(node) is not YMap:
        r.err(node, f"{where} must be a mapping: {{issuer: URL, signing_keys: [key.pem]}}")
        return None
    if kind != "haproxy":
        r.err(
            node,
            f"{where}: only a haproxy gateway checks bound tokens (nginx-light cannot verify a "
            "JWT): front the API with HAProxy, or use the lab's Python gateway",
        )
        return None
    r.fields(node, AS_FIELDS, where)
    issuer = r.text(node, "issuer", required=True, scan=False)
    if issuer is not None and not _ISSUER.match(issuer):
        r.err(
            node["issuer"],
            f"{where}.issuer must be the tokens' iss as a URI without spaces, quotes, "
            "backslashes or $ (e.g. https://auth.example.com)",
        )
    keys = _paths(r, node, "signing_keys", where)
    if not keys and type(node.get("signing_keys")) is YSeq and not node["signing_keys"]:
        r.err(node["signing_keys"], f"{where}.signing_keys needs at least one PEM public key file")
    endpoint = r.text(node, "token_endpoint", scan=False)
    if endpoint is not None:
        u = urlsplit(endpoint)
        try:
            ok = u.scheme == "https" and bool(u.hostname) and (u.port or 443) > 0
        except ValueError:
            ok = False
        if not ok or not _WORD.match(endpoint):
            r.err(
                node["token_endpoint"],
                f"{where}.token_endpoint must be an https:// URL without spaces or quotes, "
                "e.g. https://auth.example.com/oauth2/token",
            )
    ca = r.text(node, "ca", scan=False)
    if ca is not None and not _PATH.match(ca):
        r.err(node["ca"], f"{where}.ca must be a plain path ([A-Za-z0-9_./@+-])")
    return AuthorizationServer(
        issuer=issuer or "",
        signing_keys=keys,
        token_endpoint=endpoint,
        ca=ca,
        location=Location(r.file, node.line, node.col),
    )


def _paths(r: Any, m: YMap, name: str, where: str) -> tuple[str, ...]:
    node = m.get(name)
    if node is None:
        r.err(m, f"{where}: missing {name}; add '{name}: [as-signing.pem]'")
        return ()
    return _plain_list(
        r, node, name, _PATH,
        f"{where}.{name} must be a list of paths like [as-signing.pem]",
        f"{where}.{name}: each entry must be a plain path ([A-Za-z0-9_./@+-])",
    )  # fmt: skip


def _argv(r: Any, m: YMap, name: str) -> tuple[str, ...]:
    node = m.get(name)
    if node is None:
        return ()
    not_list = f"{name} must be a command as a list, e.g. [nginx, -s, reload]"
    if type(node) is YSeq and not node:
        r.err(node, not_list)
        return ()
    return _plain_list(
        r, node, name, _WORD, not_list,
        f"{name}: each word must be plain text without spaces or quotes",
    )  # fmt: skip


def _plain_list(
    r: Any, node: Any, name: str, pattern: re.Pattern, not_list: str, bad_item: str
) -> tuple[str, ...]:
    """A YAML list of plain words (argv, paths): each matching ``pattern``, none a secret."""
    if type(node) is not YSeq:
        r.err(node, not_list)
        return ()
    out = []
    for item in node:
        if type(item) is not Scalar or not pattern.match(item.value):
            r.err(item, bad_item)
            continue
        _scan_parts(r, item, name, item.value)
        out.append(item.value)
    return tuple(out)


def _scan_parts(r: Any, node: Any, name: str, value: str) -> None:
    """Req. 23 for paths and argv: each path segment on its own (a long path of ordinary
    segments is not a token, a pasted key as one segment still is)."""
    from workbench.secrets import secret_kind

    for part in re.split(r"[/=,:]", value):
        kind = secret_kind(part) if part else None
        if kind:
            r.err(
                node,
                f"{name} looks like it holds a pasted secret ({kind}); remove it and put a "
                "reference in secret_ref (env:NAME or file:PATH); value not shown",
            )
            return


def _upstreams(r: Any, m: YMap) -> tuple[tuple[str, str], ...]:
    node = m.get("upstreams")
    if node is None:
        return ()
    if type(node) is not YMap:
        r.err(node, 'upstreams must map API ids to URLs: {orders-api: "http://10.0.0.5:8080"}')
        return ()
    out = []
    for api_id, value in node.items():
        if type(value) is not Scalar:
            r.err(value, f"upstreams.{api_id} must be a URL")
            continue
        u = urlsplit(value.value)
        try:
            ok = u.scheme in ("http", "https") and u.hostname and u.port and u.path in ("", "/")
        except ValueError:
            ok = False
        if not ok or not _WORD.match(value.value):
            r.err(
                value, f"upstreams.{api_id} must be http(s)://host:port, e.g. http://10.0.0.5:8080"
            )
            continue
        out.append((api_id, value.value.rstrip("/")))
    return tuple(out)


def check_gateways(inv: Inventory, err: Callable[[Location | None, str], None]) -> None:
    """Every API a gateway names exists, and no API sits behind two gateways."""
    owner: dict[str, str] = {}
    ids: set[str] = set()
    for g in inv.gateways:
        if g.id in ids:
            err(g.location, f"duplicate gateway id {g.id}")
        ids.add(g.id)
        for api in g.apis:
            if api not in inv.apis_by_id:
                err(g.location, f"gateway {g.id}: unknown api {api}")
            elif api in owner:
                err(g.location, f"api {api} is behind gateways {owner[api]} and {g.id}: pick one")
            owner[api] = g.id
        for api, _ in g.upstreams:
            if api not in g.apis:
                err(g.location, f"gateway {g.id}: upstreams names {api}, which it does not front")
