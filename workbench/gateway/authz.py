"""The per-request auth decision, as one pure function both gateways implement.

:func:`decide` is what the Python gateway runs; the nginx template renders the same table
as ``map`` blocks. Keeping it pure lets the table be unit-tested without sockets.

| mode | allowed cert | other verified cert | valid key | result |
|------|--------------|---------------------|-----------|--------|
| key  | ignored      | ignored             | yes / no  | 200 key / 401 |
| dual | yes          | -                   | any       | 200 cert |
| dual | no           | yes                 | yes       | 200 key |
| dual | no           | yes                 | no        | 403 |
| dual | no           | no                  | yes / no  | 200 key / 401 |
| mtls | yes          | -                   | any       | 200 cert |
| mtls | no           | yes                 | any       | 403 |
| mtls | no           | no                  | any       | 401 (an old key alone is refused) |
| mtls+token | yes, with a valid token bound to it | - | any | 200 cert+token |
| mtls+token | yes, token missing/invalid/bound elsewhere | - | any | 401 + Bearer challenge |
| mtls+token | no           | yes                 | any       | 403 |
| mtls+token | no           | no                  | any       | 401 + Bearer challenge |

The token column is a :class:`~workbench.gateway.tokenauth.TokenCheck` computed by the
caller (the Python gateway in-process, nginx via the authorization server's
``/introspect-bound``), so this function stays pure. An operator's HAProxy renders the same
rows into its own config and checks the company's tokens itself
(:mod:`workbench.gateway.boundtoken`).

A certificate that fails verification (untrusted, expired, revoked) never gets this far, in
any mode: the Python gateway's handshake fails with a TLS alert; nginx turns its internal
495 into a 403 (``error_page``), and its maps treat ``$ssl_client_verify = FAILED:*`` as a
refusal too.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import GatewayError
from workbench.gateway.spec import Route, service_of_identity
from workbench.gateway.tokenauth import TokenCheck, www_authenticate
from workbench.secrets import key_fingerprint
from workbench.states import GatewayMode

__all__ = ["Decision", "PeerCert", "decide", "peer_from_getpeercert", "read_route_keys"]

KEY_VALUE = re.compile(r"^[A-Za-z0-9._+/=-]{16,512}$")
"""Static key values both gateways accept (no quotes, ``$``, spaces or a leading ``~``)."""
_NGINX_WORDS = {"default", "hostnames", "include", "volatile"}


@dataclass(frozen=True)
class PeerCert:
    """The parts of a verified client certificate that authorisation looks at."""

    uris: tuple[str, ...]
    """URI SANs (a SPIFFE SVID has exactly one)."""
    cn: str | None
    """Subject common name, if any."""


@dataclass(frozen=True)
class Decision:
    """What the gateway does with one request."""

    status: int
    """0 to pass to the backend, else the HTTP status to answer (401 or 403)."""
    auth: str
    """``key``, ``cert``, ``cert+token`` or ``none`` (refused): the access log's ``auth``."""
    identity: str
    """SPIFFE id, key fingerprint, ``cn:<CN>`` of a refused cert, or empty."""
    token_jti: str = ""
    """``jti`` of the accepted access token (mode ``mtls+token``)."""
    token_fp: str = ""
    """Fingerprint of the access token presented, accepted or not (never the token)."""
    challenge: str = ""
    """``WWW-Authenticate`` value to send with a 401 in mode ``mtls+token``."""


def peer_from_getpeercert(cert: Mapping | None) -> PeerCert | None:
    """Build a :class:`PeerCert` from ``SSLSocket.getpeercert()`` (None or {} = no cert)."""
    if not cert:
        return None
    uris = tuple(v for k, v in cert.get("subjectAltName", ()) if k == "URI")
    cn = None
    for rdn in cert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                cn = value
    return PeerCert(uris=uris, cn=cn)


def cert_identity(route: Route, peer: PeerCert | None) -> str | None:
    """The allowed SPIFFE id this certificate proves, or None."""
    if peer is None or len(peer.uris) != 1:
        return None
    uri = peer.uris[0]
    if uri in route.allowed_identities and peer.cn == service_of_identity(uri):
        return uri
    return None


def _match_key(presented: str | None, keys: Mapping[str, str]) -> str | None:
    if not presented:
        return None
    found = None
    for value, fp in keys.items():
        if hmac.compare_digest(value.encode(), presented.encode()):
            found = fp
    return found


def decide(
    route: Route,
    *,
    peer: PeerCert | None,
    presented_key: str | None,
    keys: Mapping[str, str],
    token: TokenCheck | None = None,
) -> Decision:
    """Apply the table above. ``keys`` maps accepted key values to their fingerprints;
    ``token`` is the bound-token check of this request (mode ``mtls+token`` only)."""
    fp = _match_key(presented_key, keys)
    if route.mode == GatewayMode.MTLS_TOKEN:
        return _decide_token(route, peer, token, fp)
    if route.mode == GatewayMode.KEY:
        if fp:
            return Decision(0, "key", fp)
        return Decision(401, "none", "")
    ident = cert_identity(route, peer)
    if ident:
        return Decision(0, "cert", ident)
    if route.mode == GatewayMode.DUAL and fp:
        return Decision(0, "key", fp)
    if peer is not None:
        return Decision(403, "none", fp or f"cn:{peer.cn or ''}")
    return Decision(401, "none", fp or "")


def _decide_token(
    route: Route, peer: PeerCert | None, token: TokenCheck | None, key_fp: str | None
) -> Decision:
    ident = cert_identity(route, peer)
    tfp = token.fingerprint if token else ""
    if ident and token is not None and token.ok:
        return Decision(0, "cert+token", ident, token.jti, tfp)
    if ident:
        return Decision(401, "none", ident, "", tfp, www_authenticate(token))
    if peer is not None:
        return Decision(403, "none", key_fp or f"cn:{peer.cn or ''}", "", tfp)
    return Decision(401, "none", key_fp or "", "", tfp, www_authenticate(token))


def check_key_value(value: str, where: str) -> None:
    """Refuse values the nginx ``map`` could misread; the message names the file, not the value."""
    if not KEY_VALUE.fullmatch(value) or value in _NGINX_WORDS:
        raise GatewayError(
            f"{where}: key value has characters outside [A-Za-z0-9._+/=-] or is shorter than 16: "
            "regenerate it"
        )


def read_route_keys(route: Route) -> dict[str, str]:
    """Read a route's key files: value -> fingerprint. Errors name files, never values."""
    out: dict[str, str] = {}
    for path in route.key_files:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise GatewayError(
                f"{path}: cannot read key file ({type(exc).__name__}): check it exists and is UTF-8"
            ) from None
        check_key_value(value, path)
        out[value] = key_fingerprint(value)
    return out
