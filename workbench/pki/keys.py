"""Key generation and the algorithm floor (security requirement 7).

Supported algorithms, by name: ``ec-p256`` (the default: fast, small, accepted everywhere),
``ec-p384``, ``rsa-2048``, ``rsa-3072``, ``rsa-4096`` and ``ed25519`` (only where the peer
supports it: OpenSSL 3 and Python's ``ssl`` do, cryptography's X.509 path validator does
not). Anything below RSA 2048 or P-256, and DSA, is refused.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from workbench.errors import PKIError

__all__ = [
    "DEFAULT_ALGORITHM",
    "KEY_ALGORITHMS",
    "KeyAlgorithm",
    "PrivateKey",
    "PublicKey",
    "algorithm_of",
    "check_public_key",
    "generate_private_key",
    "signature_hash",
]

KeyAlgorithm: TypeAlias = Literal[
    "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"
]
KEY_ALGORITHMS: tuple[str, ...] = get_args(KeyAlgorithm)
DEFAULT_ALGORITHM: KeyAlgorithm = "ec-p256"

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey

_CURVES: dict[str, type[ec.EllipticCurve]] = {"ec-p256": ec.SECP256R1, "ec-p384": ec.SECP384R1}
_ALLOWED_CURVES = {"secp256r1": "ec-p256", "secp384r1": "ec-p384", "secp521r1": "ec-p521"}


def generate_private_key(algorithm: str = DEFAULT_ALGORITHM) -> PrivateKey:
    """A fresh private key for ``algorithm`` (one of ``KEY_ALGORITHMS``)."""
    if algorithm in _CURVES:
        return ec.generate_private_key(_CURVES[algorithm]())
    if algorithm.startswith("rsa-") and algorithm in KEY_ALGORITHMS:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[4:]))
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise PKIError(
        f"unsupported key algorithm {algorithm!r}: use one of {', '.join(KEY_ALGORITHMS)}"
    )


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    """The algorithm name of a key, after checking it meets the floor (req. 7)."""
    public = key.public_key() if hasattr(key, "private_bytes") else key
    return check_public_key(public)  # type: ignore[arg-type]


def check_public_key(public_key: object) -> str:
    """Return the algorithm name of ``public_key`` or raise PKIError if it is below the floor."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise PKIError(
                f"RSA key of {public_key.key_size} bits refused: use RSA >= 2048 or ec-p256"
            )
        return f"rsa-{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        name = _ALLOWED_CURVES.get(public_key.curve.name)
        if name is None:
            raise PKIError(f"EC curve {public_key.curve.name} refused: use P-256 or stronger")
        return name
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    raise PKIError(
        f"key type {type(public_key).__name__} refused: use EC P-256/P-384, RSA >= 2048 or Ed25519"
    )


def signature_hash(key: PrivateKey | PublicKey) -> hashes.HashAlgorithm | None:
    """The hash to sign with for this signing key (None for Ed25519, which hashes internally)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        size = key.curve.key_size
        return (
            hashes.SHA256() if size <= 256 else hashes.SHA384() if size <= 384 else hashes.SHA512()
        )
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return None
    return hashes.SHA256()
