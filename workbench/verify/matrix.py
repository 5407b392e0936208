"""The probe matrix of one entry point: which identity sends what, where, how often.

Each identity's TLS context is built once per run (~1.5 ms each) and shared by every probe;
a context holds no session state, so sharing it never resumes a session (each probe gets
its own ``SSLObject``; ``session_reused`` in the evidence shows it).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import VerifyError
from workbench.verify.corners import CORNER_METHODS, corner_specs
from workbench.verify.forms import KeyForm, bearer_form, corner_forms, key_forms
from workbench.verify.probe import ProbeSpec, client_context
from workbench.verify.target import DEFAULT_REPEAT, CertIdentity, EntryPoint, Identities, Target
from workbench.verify.verdict import CONTROL, LIVE_DECOY, NO_CREDENTIALS, OLD_KEY

__all__ = [
    "KEY_BESIDE_CERT",
    "LIVE_DECOY",
    "LIVE_PROBE",
    "METHODS",
    "Credentials",
    "build_credentials",
    "describe_cert",
    "prepare",
    "scope_of",
]

METHODS = ("GET", "POST")
KEY_BESIDE_CERT = "old-key+other-cert"
LIVE_PROBE = "old-key-live"


def describe_cert(chain: Path) -> str:
    """``SPIFFE-or-CN serial=HEX`` of the leaf, for evidence."""
    from cryptography import x509

    try:
        leaf = x509.load_pem_x509_certificates(Path(chain).read_bytes())[0]
    except (OSError, ValueError) as exc:
        raise VerifyError(
            f"{chain}: cannot read a PEM certificate ({exc.__class__.__name__})"
        ) from None
    name = leaf.subject.rfc4514_string() or "-"
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        if uris:
            name = uris[0]
    except x509.ExtensionNotFound:
        pass
    return f"cert {name} serial={leaf.serial_number:x}"


def _load(ident: CertIdentity, ca: Path) -> tuple[ssl.SSLContext, str]:
    try:
        ctx = client_context(ca, ident.chain, ident.key)
    except (OSError, ssl.SSLError) as exc:
        raise VerifyError(
            f"{ident.chain}: cannot load certificate/key ({exc.__class__.__name__}); "
            "check the paths and that the key matches"
        ) from None
    return ctx, describe_cert(ident.chain)


@dataclass(frozen=True)
class Credentials:
    """Each identity's TLS context, built once and shared by every probe of a run."""

    bare: ssl.SSLContext
    bare_unchecked: ssl.SSLContext
    """``bare`` without hostname checking: the SNI corners check the name themselves."""
    bare_h2: ssl.SSLContext
    """``bare`` offering ALPN ``h2`` (then ``http/1.1``), for the HTTP/2 corner."""
    controls: tuple[tuple[ssl.SSLContext, str], ...]
    foreign: tuple[ssl.SSLContext, str]
    revoked: tuple[ssl.SSLContext, str] | None
    other: tuple[ssl.SSLContext, str] | None
    token_peer: tuple[ssl.SSLContext, str] | None


def build_credentials(identities: Identities) -> Credentials:
    ca = identities.server_ca
    try:
        bare = client_context(ca)
    except (OSError, ssl.SSLError) as exc:
        raise VerifyError(
            f"{ca}: cannot load the server CA file ({exc.__class__.__name__})"
        ) from None
    bare_unchecked = client_context(ca)
    bare_unchecked.check_hostname = False  # the chain is still verified (CERT_REQUIRED)
    bare_h2 = client_context(ca)
    bare_h2.set_alpn_protocols(["h2", "http/1.1"])
    controls = tuple(_load(c, ca) for c in identities.controls)
    if identities.foreign_cert is not None:
        foreign = _load(identities.foreign_cert, ca)
    else:
        from workbench.verify.foreign import lookalike_context

        look = lookalike_context(identities.new_cert.chain, ca)
        foreign = (look, f"throwaway foreign CA, look-alike of {controls[0][1]}")
    return Credentials(
        bare,
        bare_unchecked,
        bare_h2,
        controls,
        foreign,
        _load(identities.revoked_cert, ca) if identities.revoked_cert else None,
        _load(identities.other_service_cert, ca) if identities.other_service_cert else None,
        _load(identities.token_peer_cert, ca) if identities.token_peer_cert else None,
    )


def prepare(
    identities: Identities,
    header: str,
    path: str,
    *,
    paths: Sequence[str] = (),
    presented_as: Sequence[str] = (),
    repeat: int = DEFAULT_REPEAT,
    creds: Credentials | None = None,
    host: str = "",
) -> tuple[ProbeSpec, ...]:
    """The probe list of one entry point: controls to ``path`` (the health path), negatives
    to ``path`` and every one of ``paths`` with each method, ``repeat`` times, then the
    corner probes (:mod:`workbench.verify.corners`) of ``host``."""
    creds = creds or build_credentials(identities)
    old = identities.old_key
    token = identities.bearer_token
    forms = key_forms(header, presented_as)
    bearer = bearer_form()
    specs: list[ProbeSpec] = []
    tokens = (token, *identities.more_tokens) if token is not None else ()
    for i, (ctx, label) in enumerate(creds.controls):
        if token is not None:
            if i >= len(tokens):
                raise VerifyError(f"{label}: no bound token to present it with (mtls+token)")
            identity = f"{label} + bound token"
            specs.append(
                ProbeSpec(CONTROL, "accepted", ctx, identity, path, "GET", bearer, tokens[i])
            )
        else:
            specs.append(ProbeSpec(CONTROL, "accepted", ctx, label, path))
    old_id = f"old key fp={old.fingerprint}"
    for target_path in dict.fromkeys((path, *paths)):
        for method in METHODS:
            for attempt in range(1, repeat + 1):

                def add(
                    name: str,
                    ctx,
                    identity: str,
                    form: KeyForm | None = None,
                    secret=None,
                    where=(target_path, method, attempt),
                ):
                    p, m, a = where
                    specs.append(ProbeSpec(name, "refused", ctx, identity, p, m, form, secret, a))

                add(NO_CREDENTIALS, creds.bare, "none")
                for form in forms:
                    add(OLD_KEY, creds.bare, old_id, form, old)
                if creds.other is not None:
                    ctx, label = creds.other
                    for form in forms:
                        add(KEY_BESIDE_CERT, ctx, f"{old_id} beside {label}", form, old)
                    add("other-service-cert", ctx, label)
                add("foreign-ca-cert", *creds.foreign)
                if creds.revoked is not None:
                    add("revoked-cert", *creds.revoked)
                if token is not None:
                    ctx0, label0 = creds.controls[0]
                    add("cert-without-token", ctx0, label0)
                    add("token-without-cert", creds.bare, "bound token only", bearer, token)
                    if creds.token_peer is not None:
                        ctx, label = creds.token_peer
                        add("token-with-other-cert", ctx, f"{label} + another's bound token",
                            bearer, token)  # fmt: skip
    specs += corner_specs(
        host=host, header=header, paths=(path, *paths), forms=forms, old=old, old_id=old_id,
        bare=creds.bare, bare_unchecked=creds.bare_unchecked, bare_h2=creds.bare_h2,
    )  # fmt: skip
    return tuple(specs)


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith("s") else f"{n} {word}s"


def scope_of(
    identities: Identities,
    target: Target,
    entries: Sequence[EntryPoint],
    addresses: Sequence[Sequence[str]],
    repeat: int,
    probes: int,
) -> dict:
    """What one run covers, as data and as the sentence the PASS line ends with."""
    forms = key_forms(target.header, target.presented_as)
    n_addr = [len(a) for a in addresses]
    paths = len(entries[0].paths) if entries else 0
    if len(set(n_addr)) <= 1:
        per_entry = _plural(n_addr[0] if n_addr else 0, "address")
        where = f"{_plural(len(entries), 'entry point')} x {per_entry}"
    else:
        where = f"{_plural(len(entries), 'entry point')}, {sum(n_addr)} addresses"
    beside = identities.other_service_cert is not None
    shapes = corner_forms(target.header, forms)
    corners = [
        f"{_plural(len(shapes), 'more key shape')}",
        "HTTP/1.0",
        "HTTP/2",
        "keep-alive",
        "no SNI and another SNI",
        "another Host",
        "/".join(CORNER_METHODS),
        "the paths spelled 4 other ways",
    ]
    text = (
        f"{_plural(len(identities.controls), 'consumer')}, {where}, "
        f"{_plural(len(forms), 'key form')} (alone"
        + (" and beside another identity's certificate)" if beside else " only)")
        + f", {_plural(paths, 'path')} x {len(METHODS)} methods, {_plural(repeat, 'repeat')}"
        + f"; once each: {', '.join(corners)}"
    )
    return {
        "text": text,
        "consumers": len(identities.controls),
        "entry_points": [e.url for e in entries],
        "addresses": {e.url: list(a) for e, a in zip(entries, addresses, strict=True)},
        "key_forms": [f.label for f in forms],
        "key_beside_other_certificate": beside,
        "foreign_ca": "given" if identities.foreign_cert else "throwaway look-alike",
        "paths": list(entries[0].paths) if entries else [],
        "methods": list(METHODS),
        "corners": {
            "key_shapes": [f.label for f in shapes],
            "protocol": [
                "HTTP/1.0",
                "HTTP/2",
                "keep-alive 2nd request",
                "no SNI",
                "another SNI",
                "another Host",
            ],  # fmt: skip
            "path_spellings": [
                "trailing slash toggled",
                "upper case",
                "a percent-encoded letter",
                "a double slash",
            ],  # fmt: skip
            "methods": list(CORNER_METHODS),
        },
        "repeat": repeat,
        "probes": probes,
    }
