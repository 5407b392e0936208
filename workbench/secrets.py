"""Old static key values: held, sent once, never shown (requirements 11, 12 and 23).

This module is the one place that knows what a secret looks like (:func:`secret_kind`, used
by the inventory's pasted-secret check and the audit log's guard alike) and the one
fingerprint function (:func:`key_fingerprint`).

A :class:`SecretValue` is the only object that may hold an old static key's value. It prints
as its fingerprint (first 12 hex of SHA-256), refuses pickling and JSON, and gives the value
only through :meth:`SecretValue.reveal`, which the verifier calls at the one place that puts
the value on the wire. Errors raised here name the reference (``env:NAME``, ``file:PATH``),
never the value.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import stat
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from workbench.errors import WorkbenchError

__all__ = [
    "MAX_SECRET_FILE_BYTES",
    "MIN_SECRET_LEN",
    "WORKBENCH_SECRET_ENV",
    "SecretRefError",
    "child_environ",
    "SecretValue",
    "contains_live_secret",
    "fingerprint",
    "key_fingerprint",
    "note_old_key_env",
    "refuse_secret_json",
    "resolve_secret_ref",
    "secret_kind",
    "show_value",
]

MAX_SECRET_FILE_BYTES = 64 * 1024
"""A key file larger than this is not a static API key; refuse it rather than read it."""


WORKBENCH_SECRET_ENV = frozenset(
    (
        "WORKBENCH_CA_PASSPHRASE",
        "WORKBENCH_P12_PASSWORD",
        "VAULT_TOKEN",
        "VAULT_SECRET_ID",
        "VAULT_ROLE_ID",
        "BAO_TOKEN",
    )
)
"""The workbench's own secrets in the environment: never an old key, never passed to a child.
Every other ``WORKBENCH_*`` variable is the workbench's too (req. 28)."""


class SecretRefError(WorkbenchError):
    """A secret reference could not be resolved (unset variable, unsafe file, bad value).

    Defined here rather than in ``workbench.errors`` because that module is a shared contract;
    it is a plain :class:`WorkbenchError` (exit status 2) and its message never holds a value.
    """


def key_fingerprint(value: str | bytes) -> str:
    """First 12 hex characters of the SHA-256 of ``value`` (UTF-8 for text): the only trace
    of a secret the workbench ever stores or shows."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:12]


fingerprint = key_fingerprint


# --- what a secret looks like (the one detector) -----------------------------------------

MIN_SECRET_LEN = 20
"""Strings shorter than this are never treated as secrets (an AWS key id is 20)."""

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_AWS = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
_PREFIXED = re.compile(
    r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|AIza[A-Za-z0-9_-]{35})"
)
_SHAPES = (
    (_PEM, "PEM private key"),
    (_JWT, "JWT"),
    (_AWS, "AWS access key id"),
    (_PREFIXED, "API token"),
)
# All shapes in one pass: most text has none, and one search is ~3x cheaper than four. The
# lookahead names every shape's first character (PEM "-", JWT "e", AWS and Google "A",
# GitHub/GitLab "g", Slack "x", Stripe "s"/"r"), so most positions fail at once: 3.1 -> 0.9
# us for a SHA-256 hex. A new shape whose first character is not there must be added to it.
_ANY_SHAPE = re.compile(
    "(?=[-eAgxsr])(?:" + "|".join(f"(?:{pattern.pattern})" for pattern, _ in _SHAPES) + ")"
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{" + str(MIN_SECRET_LEN) + ",}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_LOWER_HEX = re.compile(r"[0-9a-f]+")


def _entropy(token: str) -> float:
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def _high_entropy(token: str, *, hex_is_public: bool) -> bool:
    if _UUID.fullmatch(token):
        return False
    if _HEX.fullmatch(token):
        if hex_is_public:
            return False  # where the workbench writes digests, hex is a digest
        # Hex: 32+ characters (a 128-bit key); short commit ids (12) stay allowed.
        return len(token) >= 32 and _entropy(token) >= 3.0
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if not (has_digit and has_alpha):
        return False
    mixed_case = any(c.isupper() for c in token) and any(c.islower() for c in token)
    # Base64-ish tokens carry ~6 bits/char; words joined by dashes stay well under 4.
    return _entropy(token) >= (4.0 if mixed_case else 4.3) and len(token) >= 24


def secret_kind(value: str, *, entropy: bool = True, hex_is_public: bool = False) -> str | None:
    """What kind of secret ``value`` looks like, or None. Never returns the value.

    Shapes that only a secret has (PEM private keys, JWTs, AWS key ids, well-known token
    prefixes) are found everywhere. ``entropy=False`` skips the long-random-token heuristic,
    for text whose randomness is known to be public (a temporary directory's name);
    ``hex_is_public`` lets hex strings pass, for places where hex means a digest.
    """
    if len(value) < MIN_SECRET_LEN:
        return None
    if _LOWER_HEX.fullmatch(value):  # a digest or serial: no shape is lower-case hex
        return (
            "high-entropy token"
            if entropy and _high_entropy(value, hex_is_public=hex_is_public)
            else None
        )
    if _ANY_SHAPE.search(value):
        for pattern, kind in _SHAPES:  # in this order: the first kind found names it
            if pattern.search(value):
                return kind
    if entropy:
        for token in _TOKEN.findall(value):
            if _high_entropy(token, hex_is_public=hex_is_public):
                return "high-entropy token"
    return None


def show_value(value: object, limit: int = 40) -> str:
    """A safe way to quote user text in a message: escaped, cut short, secrets hidden."""
    text = str(value)
    if secret_kind(text) or contains_live_secret(text):
        return "<value hidden: looks like a secret>"
    shown = ascii(text[:limit])  # escapes control, bidi and look-alike characters
    return shown + ("..." if len(text) > limit else "")


# --- the values this process holds --------------------------------------------------------

MIN_LIVE_SECRET_LEN = 8
"""Shorter values are not looked for inside other text: they would match ordinary words."""

_live_lock = threading.Lock()
_live_values: set[str] = set()
_live_pattern: re.Pattern[str] | None = None


def _remember(value: str) -> None:
    global _live_pattern
    if len(value) < MIN_LIVE_SECRET_LEN or value in _live_values:
        return
    with _live_lock:
        _live_values.add(value)
        _live_pattern = None


def contains_live_secret(text: str) -> bool:
    """Whether ``text`` holds the value of any secret this process has resolved.

    Every :class:`SecretValue` is remembered (in memory only), so a guard can refuse an old
    key wherever it turns up, whatever shape the surrounding text has.
    """
    global _live_pattern
    if not _live_values:
        return False
    pattern = _live_pattern
    if pattern is None:
        with _live_lock:
            alternatives = sorted(_live_values, key=len, reverse=True)
            pattern = _live_pattern = re.compile("|".join(map(re.escape, alternatives)))
    return pattern.search(text) is not None


class SecretValue:
    """An old static key's value that redacts itself everywhere except :meth:`reveal`.

    Not a ``str`` subclass, so ``json.dumps`` refuses it; ``pickle`` and ``copy`` refuse it
    too, so it cannot leak into a workspace file or a worker process by accident.
    """

    __slots__ = ("_fp", "_value")

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("SecretValue holds text; decode the key first")
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_fp", key_fingerprint(value))
        _remember(value)

    @property
    def fingerprint(self) -> str:
        """First 12 hex of SHA-256 of the value: the only form that may be shown or stored."""
        return self._fp

    def reveal(self) -> str:
        """The value itself, for the single place that sends it to a server."""
        return self._value

    def __repr__(self) -> str:
        return f"SecretValue(fp={self._fp})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("SecretValue is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("SecretValue", self._fp))

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("refusing to pickle a SecretValue: old key values are never stored")

    def __reduce__(self) -> NoReturn:
        raise TypeError("refusing to pickle a SecretValue: old key values are never stored")

    def __copy__(self) -> SecretValue:
        return self

    def __deepcopy__(self, memo: object) -> SecretValue:
        return self


def refuse_secret_json(obj: Any) -> NoReturn:
    """A ``json.dumps(default=...)`` hook that refuses secret values (and anything unknown)."""
    if isinstance(obj, SecretValue):
        raise TypeError(f"refusing to serialise {obj!r} to JSON: use its fingerprint")
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _check_value(value: str, ref: str) -> SecretValue:
    value = value.rstrip("\r\n")
    if not value:
        raise SecretRefError(f"{ref}: the key value is empty; put the old key's value there")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        # A control character would let the value break out of its HTTP header line.
        raise SecretRefError(
            f"{ref}: the key value contains control characters or several lines; "
            "store exactly one key on one line"
        )
    return SecretValue(value)


def is_workbench_env(name: str) -> bool:
    """True for a variable the workbench itself reads (``WORKBENCH_*``, its Vault token)."""
    return name.startswith("WORKBENCH_") or name in WORKBENCH_SECRET_ENV


def resolve_secret_ref(
    ref: str,
    base_dir: Path | str = ".",
    *,
    environ: Mapping[str, str] | None = None,
) -> SecretValue:
    """Resolve ``env:NAME`` or ``file:PATH`` (relative to ``base_dir``) to a :class:`SecretValue`.

    ``env:`` may not name the workbench's own variables (req. 28). A key file must be a
    regular file, not a symlink (req. 9), at most :data:`MAX_SECRET_FILE_BYTES`, and not
    readable, writable or executable by group or others. Trailing newlines are dropped.
    """
    scheme, sep, rest = ref.partition(":")
    if not sep or not rest:
        raise SecretRefError(
            f"secret reference {ref!r} is not 'env:NAME' or 'file:PATH'; write one of those"
        )
    if scheme == "env":
        if is_workbench_env(rest):
            raise SecretRefError(
                f"{ref}: {rest} is one of the workbench's own variables, not an old key; "
                "point secret_ref at the variable that holds the old key"
            )
        env = os.environ if environ is None else environ
        if rest not in env:
            raise SecretRefError(
                f"environment variable {rest} is not set; export it with the old key's value"
            )
        return _check_value(env[rest], ref)
    if scheme == "file":
        path = Path(base_dir) / rest
        # O_NOFOLLOW guards the last component only: a planted directory link is refused too
        for parent in list(Path(rest).parents)[-2::-1] if not Path(rest).is_absolute() else ():
            if (Path(base_dir) / parent).is_symlink():
                raise SecretRefError(
                    f"{ref}: {Path(base_dir) / parent} is a symlink; refusing to follow it, "
                    "point at the real file"
                )
        return _check_value(_read_key_file(path, ref), ref)
    raise SecretRefError(f"secret reference scheme {scheme!r} is unknown; use 'env:' or 'file:'")


def _read_key_file(path: Path, ref: str) -> str:
    try:
        # O_NONBLOCK: a FIFO planted as the key file must not hang the run until a writer comes
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SecretRefError(f"{ref}: file {path} does not exist; create it (mode 0600)") from None
    except OSError as exc:
        if path.is_symlink():
            raise SecretRefError(
                f"{ref}: {path} is a symlink; refusing to follow it, point at the real file"
            ) from None
        raise SecretRefError(f"{ref}: cannot open {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SecretRefError(f"{ref}: {path} is not a regular file")
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretRefError(
                f"{ref}: {path} is readable or writable by group or others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}); run 'chmod 600 {path}'"
            )
        data = os.read(fd, MAX_SECRET_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise SecretRefError(f"{ref}: {path} is larger than {MAX_SECRET_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretRefError(f"{ref}: {path} is not UTF-8 text") from None


# --- the environment of child processes (req. 29) ------------------------------------------

_OLD_KEY_ENV: set[str] = set()
"""Variable names that inventories loaded in this process name as ``env:`` old keys."""


def note_old_key_env(names: Iterable[str]) -> None:
    """Remember variables that hold old keys, so :func:`child_environ` never passes them on.

    The inventory loader calls this for every ``env:NAME`` reference it reads: a process
    started later (a gateway, the lab's backend, ``nginx -t``) then never inherits them.
    """
    _OLD_KEY_ENV.update(n for n in names if n)


def child_environ(
    extra: Mapping[str, str] | None = None,
    *,
    drop: Iterable[str] = (),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a process the workbench starts: its own minus every secret.

    Removes every ``WORKBENCH_*`` variable, the Vault/OpenBao tokens, the old-key variables
    any loaded inventory names (:func:`note_old_key_env`) and ``drop``; then adds ``extra``.
    ``base`` defaults to ``os.environ``. Pass the result as ``env=`` at every spawn site.
    """
    source = os.environ if base is None else base
    dropped = _OLD_KEY_ENV | set(drop)
    env = {k: v for k, v in source.items() if not is_workbench_env(k) and k not in dropped}
    for k, v in (extra or {}).items():
        if is_workbench_env(k) or k in dropped:
            raise ValueError(f"refusing to pass secret variable {k} to a child process")
        env[k] = v
    return env
