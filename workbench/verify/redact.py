"""Scrub what a server said of every secret a probe sent, in every usual encoding (req. 30).

A misbehaving server may echo the key it was sent: plainly, hex-encoded (either case),
base64 or base64url (with or without padding, also as ``key:`` the way HTTP Basic carries
it), or percent-encoded (any case, any subset of characters escaped). Each becomes
``<old key fp=...>`` before anything is cut to length, so no cut can leave a prefix.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from functools import lru_cache

from workbench.secrets import SecretValue

__all__ = ["redact", "secret_pattern"]


def _percent_pattern(value: str) -> str:
    parts = []
    for ch in value:
        escaped = "".join(f"%(?i:{b:02x})" for b in ch.encode("utf-8"))
        alternatives = [escaped]
        if ch.isascii():
            alternatives.append(re.escape(ch))
        if ch == " ":
            alternatives.append(r"\+")
        parts.append("(?:" + "|".join(alternatives) + ")")
    return "".join(parts)


@lru_cache(maxsize=512)
def secret_pattern(secret: SecretValue) -> re.Pattern[str]:
    """One compiled alternation of every encoding of ``secret`` (longest first)."""
    value = secret.reveal()
    raw = value.encode("utf-8")
    literal: set[str] = {value, value.encode("utf-8").hex()}
    for data in (raw, raw + b":"):
        for enc in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
            text = enc.decode("ascii")
            literal.update((text, text.rstrip("=")))
    frags = []
    for text in sorted(literal, key=len, reverse=True):
        # hex compares case-insensitively; base64 and the plain value are case-sensitive
        if all(c in "0123456789abcdef" for c in text) and text == raw.hex():
            frags.append(f"(?i:{re.escape(text)})")
        else:
            frags.append(re.escape(text))
    frags.insert(0, _percent_pattern(value))
    return re.compile("|".join(frags))


def redact(text: str | None, secrets: Iterable[SecretValue], limit: int) -> str | None:
    """``text`` with every encoding of each secret replaced by its fingerprint, then cut."""
    if text is None:
        return None
    for secret in secrets:
        mark = f"<old key fp={secret.fingerprint}>"
        text = secret_pattern(secret).sub(mark, text)
    return text[:limit]
