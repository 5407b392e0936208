"""Inspect a JWT for the weaknesses that make migration off static keys pointless.

``lint_token`` reads the header and claims WITHOUT trusting them (the signature is checked
only when a key is given) and reports findings: a refused algorithm (requirement 7), a
bearer token that is not sender-constrained, a malformed or mismatched ``cnf.x5t#S256``
(RFC 8705), expiry, too long a lifetime and missing claims. Messages name claims and the
token's fingerprint, never the token itself (requirement 11).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from workbench.errors import TokenError
from workbench.inventory.model import Finding, Severity
from workbench.tokens._jose import (
    ALLOWED_ALGS,
    epoch,
    parse_unverified,
    token_fingerprint,
    verify_signature,
)
from workbench.tokens.thumbprints import is_wellformed_thumbprint, x5t_s256

__all__ = ["DEFAULT_MAX_LIFETIME", "TokenLint", "lint_token"]

DEFAULT_MAX_LIFETIME = 3600
"""Access tokens living longer than this (seconds, ``exp - iat``) are flagged."""


@dataclass(frozen=True)
class TokenLint:
    """What ``lint_token`` found about one token."""

    fingerprint: str
    """First 12 hex of SHA-256 of the token: how to refer to it in output and logs."""
    header: dict[str, Any]
    """The JOSE header as read (unverified)."""
    claims: dict[str, Any]
    """The claims as read (unverified unless ``signature_checked``)."""
    findings: tuple[Finding, ...] = ()
    """What is wrong, most severe first."""
    bound_to: str | None = None
    """``'x5t#S256'`` (certificate-bound), ``'jkt'`` (DPoP-bound) or None (bearer)."""
    signature_checked: bool = False
    """True when a key was given and the signature verified with it."""
    jti: str | None = field(default=None)
    """The token's ``jti`` claim, if it has a string one."""

    @property
    def ok(self) -> bool:
        """No finding at warning level or above."""
        return not any(f.severity is not Severity.INFO for f in self.findings)


_RANK = {Severity.HIGH: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def lint_token(
    token: str,
    *,
    now: datetime | float | int,
    cert: x509.Certificate | bytes | str | None = None,
    key: Any = None,
    max_lifetime: int = DEFAULT_MAX_LIFETIME,
) -> TokenLint:
    """Inspect ``token``; raise TokenError only when it is not a JWT at all.

    ``cert``: the client certificate the token should be bound to (mismatch is HIGH).
    ``key``: the issuer's public key; when given the signature is verified too.
    """
    header, claims = parse_unverified(token)
    fp = token_fingerprint(token)
    found: list[Finding] = []

    def add(code: str, severity: Severity, message: str) -> None:
        found.append(Finding(code=code, severity=severity, subject=f"token:{fp}", message=message))

    alg = header.get("alg")
    alg_text = str(alg)[:16]
    if not isinstance(alg, str) or alg.lower() == "none":
        add("alg-none", Severity.HIGH, "alg is none: the token is unsigned; anyone can forge it")
    elif alg.upper().startswith("HS"):
        add(
            "alg-hmac",
            Severity.HIGH,
            f"alg {alg_text} is a shared secret (HMAC): use PS256, ES256 or EdDSA",
        )
    elif alg not in ALLOWED_ALGS:
        add(
            "alg-not-allowed",
            Severity.WARNING,
            f"alg {alg_text} is not one of {', '.join(sorted(ALLOWED_ALGS))} (requirement 7)",
        )

    signature_checked = False
    if key is not None and alg in ALLOWED_ALGS:
        try:
            verify_signature(token, key)
            signature_checked = True
        except TokenError as exc:
            add("bad-signature", Severity.HIGH, f"signature does not verify with the key: {exc}")

    bound_to = _check_cnf(claims.get("cnf"), cert, add)
    _check_times(claims, epoch(now), max_lifetime, add)
    for name in ("aud", "jti"):
        if claims.get(name) in (None, "", []):
            add(f"missing-{name}", Severity.WARNING, f"no {name} claim")

    found.sort(key=lambda f: (_RANK[f.severity], f.code))
    jti = claims.get("jti")
    return TokenLint(
        fingerprint=fp,
        header=header,
        claims=claims,
        findings=tuple(found),
        bound_to=bound_to,
        signature_checked=signature_checked,
        jti=jti if isinstance(jti, str) else None,
    )


def _check_cnf(cnf: object, cert: Any, add: Any) -> str | None:
    if cnf is None:
        add(
            "not-sender-constrained",
            Severity.WARNING,
            "no cnf claim: a bearer token, usable by whoever steals it (bind it: RFC 8705/9449)",
        )
        if cert is not None:
            add("cert-mismatch", Severity.HIGH, "a certificate was given but the token is unbound")
        return None
    if not isinstance(cnf, dict):
        add("cnf-malformed", Severity.HIGH, "cnf is not a JSON object")
        return None
    bound_to: str | None = None
    if "x5t#S256" in cnf:
        value = cnf["x5t#S256"]
        if not is_wellformed_thumbprint(value):
            detail = _thumbprint_problem(value)
            add("x5t-malformed", Severity.HIGH, f"cnf.x5t#S256 is malformed: {detail}")
        else:
            bound_to = "x5t#S256"
            if cert is not None and not hmac.compare_digest(value, x5t_s256(cert)):
                add(
                    "cert-mismatch",
                    Severity.HIGH,
                    "cnf.x5t#S256 does not match the given certificate (a renewed or other cert)",
                )
    if "jkt" in cnf:
        if not is_wellformed_thumbprint(cnf["jkt"]):
            add("jkt-malformed", Severity.HIGH, "cnf.jkt is malformed: need 43 base64url chars")
        elif bound_to is None:
            bound_to = "jkt"
    if bound_to is None and not any(k in cnf for k in ("x5t#S256", "jkt")):
        add("cnf-unknown", Severity.WARNING, "cnf has neither x5t#S256 nor jkt")
    if cert is not None and bound_to == "jkt":
        add("cert-mismatch", Severity.HIGH, "a certificate was given but the token is DPoP-bound")
    return bound_to


def _thumbprint_problem(value: object) -> str:
    if not isinstance(value, str):
        return "not a string"
    if "=" in value:
        return "has '=' padding (RFC 8705 wants base64url without padding)"
    if "+" in value or "/" in value:
        return "uses the standard base64 alphabet; base64url uses '-' and '_'"
    if len(value) != 43:
        return f"{len(value)} characters, a SHA-256 thumbprint has 43"
    return "not base64url"


def _check_times(claims: dict[str, Any], ts: int, max_lifetime: int, add: Any) -> None:
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if exp is None:
        add("missing-exp", Severity.HIGH, "no exp claim: the token never expires")
    elif not _is_number(exp):
        add("exp-malformed", Severity.HIGH, "exp is not a NumericDate")
    elif exp <= ts:
        add("expired", Severity.WARNING, f"expired {int(ts - exp)}s ago (exp={int(exp)})")
    if iat is None:
        add("missing-iat", Severity.WARNING, "no iat claim: its age cannot be judged")
    elif not _is_number(iat):
        add("iat-malformed", Severity.HIGH, "iat is not a NumericDate")
    elif iat > ts:
        add("issued-in-future", Severity.WARNING, f"iat is {int(iat - ts)}s in the future")
    if _is_number(nbf) and nbf > ts:
        add("not-yet-valid", Severity.INFO, f"nbf is {int(nbf - ts)}s in the future")
    if _is_number(exp) and _is_number(iat) and exp - iat > max_lifetime:
        add(
            "lifetime-too-long",
            Severity.WARNING,
            f"lifetime {int(exp - iat)}s exceeds {max_lifetime}s: issue shorter-lived tokens",
        )
