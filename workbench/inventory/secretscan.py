"""Recognise secret values pasted where only references belong (security requirement 23).

``secret_kind`` says what a string looks like (PEM private key, JWT, AWS key id, a known
token prefix, or a long high-entropy token) without ever returning the value itself, and
``fingerprint`` turns a secret into the only form the workbench may store (req. 11).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

__all__ = ["MIN_SECRET_LEN", "fingerprint", "secret_kind", "show_value"]

MIN_SECRET_LEN = 20
"""Strings shorter than this are never treated as secrets (an AWS key id is 20)."""

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_AWS = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
_PREFIXED = re.compile(
    r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|sk_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|AIza[A-Za-z0-9_-]{35})"
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{" + str(MIN_SECRET_LEN) + ",}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")


def _entropy(token: str) -> float:
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def _high_entropy(token: str) -> bool:
    if _UUID.fullmatch(token):
        return False
    if _HEX.fullmatch(token):
        # Hex: 32+ characters (a 128-bit key); short commit ids (12) stay allowed.
        return len(token) >= 32 and _entropy(token) >= 3.0
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if not (has_digit and has_alpha):
        return False
    mixed_case = any(c.isupper() for c in token) and any(c.islower() for c in token)
    # Base64-ish tokens carry ~6 bits/char; words joined by dashes stay well under 4.
    return _entropy(token) >= (4.0 if mixed_case else 4.3) and len(token) >= 24


def secret_kind(value: str) -> str | None:
    """What kind of secret ``value`` looks like, or None. Never returns the value."""
    if len(value) < MIN_SECRET_LEN:
        return None
    if _PEM.search(value):
        return "PEM private key"
    if _JWT.search(value):
        return "JWT"
    if _AWS.search(value):
        return "AWS access key id"
    if _PREFIXED.search(value):
        return "API token"
    for token in _TOKEN.findall(value):
        if _high_entropy(token):
            return "high-entropy token"
    return None


def fingerprint(value: str | bytes) -> str:
    """First 12 hex digits of SHA-256 of the secret: the only trace of it ever stored."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:12]


def show_value(value: object, limit: int = 40) -> str:
    """A safe way to quote user text in a message: escaped, cut short, secrets hidden."""
    text = str(value)
    if secret_kind(text):
        return "<value hidden: looks like a secret>"
    shown = ascii(text[:limit])  # escapes control, bidi and look-alike characters
    return shown + ("..." if len(text) > limit else "")
