"""Corner probes: the old key where a gateway's check and the service behind it may disagree.

The main matrix (:mod:`workbench.verify.matrix`) sends the key in every form, to every
path, with GET and POST, repeatedly. A gateway can still honour it in a corner of the
protocol that matrix never touches, each found by building such a server:

- another shape of the key: the declared header's name in another case, the header twice
  beside a wrong value, a cookie, Basic credentials, Kong's ``apikey`` header;
- HTTP/1.0 instead of HTTP/1.1, and HTTP/2 (ALPN ``h2``) where the server agrees to it;
- the second request on a kept-alive connection (a per-connection check done once);
- no SNI, or another SNI (a default server block behind the same address);
- another Host header (a name nobody serves): a request routed to another (default)
  server block by its Host while TLS was set up for the API's name;
- HEAD, PUT, PATCH, DELETE (a check limited to GET and POST);
- the path spelled another way: trailing slash toggled, in upper case, its first letter
  percent-encoded, a double leading slash (a gateway matching paths more strictly than the
  service behind it routes them).

Each protocol corner is probed once per path, with no credentials and with the old key in
every main form; each path spelling with no credentials and the key in the declared
header. They are judged apart (:func:`workbench.verify.verdict.judge_corner`): a 2xx is a
FAIL, a refusal passes, and so does an answer saying the corner is not served (404, 405,
501, a close instead of a second request, a handshake that never let anything be sent, and
for another Host a 2xx of another media type than the API's: another site); anything else
is INCONCLUSIVE. OPTIONS is left out: CORS preflights are answered without credentials by
design.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Sequence

from workbench.verify.forms import KeyForm, corner_forms
from workbench.verify.probe import ProbeSpec
from workbench.verify.resolve import is_ip_literal
from workbench.verify.verdict import HOST_CORNER

__all__ = [
    "CORNER_METHODS",
    "HOST_CORNER",
    "NO_CREDENTIALS_CORNER",
    "OLD_KEY_CORNER",
    "corner_specs",
    "path_spellings",
]

OLD_KEY_CORNER = "old-key-corner"
NO_CREDENTIALS_CORNER = "no-credentials-corner"
CORNER_METHODS = ("HEAD", "PUT", "PATCH", "DELETE")
SHAPES = "another key shape"


def path_spellings(path: str) -> list[tuple[str, str]]:
    """(label, request target) of the other spellings of ``path`` (its query kept)."""
    bare, sep, query = path.partition("?")
    tail = sep + query
    toggled = bare.rstrip("/") if bare.endswith("/") and bare != "/" else bare + "/"
    out = [("path with the trailing slash toggled", toggled), ("path in upper case", bare.upper())]
    first = next((i for i, c in enumerate(bare) if c.isascii() and c.isalnum()), None)
    if first is not None:
        encoded = f"{bare[:first]}%{ord(bare[first]):02X}{bare[first + 1 :]}"
        out.append(("path with a percent-encoded letter", encoded))
    out.append(("path with a double slash", "/" + bare))
    seen = {bare}
    spelled = []
    for label, p in out:
        if p not in seen:
            seen.add(p)
            spelled.append((label, p + tail))
    return spelled


def _protocol_corners(host: str, other: str) -> list[tuple[str, dict]]:
    """(label, ProbeSpec fields) of each protocol corner for ``host``."""
    out: list[tuple[str, dict]] = [
        ("HTTP/1.0", {"version": "HTTP/1.0"}),
        ("HTTP/2", {"http2": True}),
        ("keep-alive, 2nd request", {"keep_alive": True}),
    ]
    if not is_ip_literal(host):
        out.append(("no SNI", {"sni": None}))
    out.append((f"SNI {other}", {"sni": other}))
    out.append((f"{HOST_CORNER}{other}", {"host_header": other}))
    out.extend((f"method {m}", {"method": m}) for m in CORNER_METHODS)
    return out


def corner_specs(
    *,
    host: str,
    header: str,
    paths: Sequence[str],
    forms: Sequence[KeyForm],
    old,
    old_id: str,
    bare: ssl.SSLContext,
    bare_unchecked: ssl.SSLContext,
    bare_h2: ssl.SSLContext,
) -> list[ProbeSpec]:
    """The corner probes of one entry point (``bare_unchecked``: the bare context without
    hostname checking, for the SNI corners, the probe checks the name itself; ``bare_h2``:
    the bare context offering ALPN ``h2``)."""
    other = f"wb-{secrets.token_hex(4)}.invalid"
    specs: list[ProbeSpec] = []
    for path in dict.fromkeys(paths):
        for form in corner_forms(header, forms):
            for method in ("GET", "POST"):
                specs.append(ProbeSpec(OLD_KEY_CORNER, "refused", bare, old_id, path, method,
                                       form, old, corner=SHAPES))  # fmt: skip
        for label, spelled in path_spellings(path):
            specs.append(ProbeSpec(NO_CREDENTIALS_CORNER, "refused", bare, "none", spelled,
                                   corner=label))  # fmt: skip
            specs.append(ProbeSpec(OLD_KEY_CORNER, "refused", bare, old_id, spelled, "GET",
                                   forms[0], old, corner=label))  # fmt: skip
        for label, fields in _protocol_corners(host, other):
            ctx = bare_unchecked if "sni" in fields else bare_h2 if "http2" in fields else bare
            method = fields.pop("method", "GET")
            specs.append(ProbeSpec(NO_CREDENTIALS_CORNER, "refused", ctx, "none", path, method,
                                   corner=label, **fields))  # fmt: skip
            for form in forms:
                specs.append(ProbeSpec(OLD_KEY_CORNER, "refused", ctx, old_id, path, method,
                                       form, old, corner=label, **fields))  # fmt: skip
    return specs
