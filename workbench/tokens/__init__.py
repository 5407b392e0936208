"""Sender-constrained tokens: RFC 8705 certificate binding, RFC 7523 private_key_jwt,
RFC 9449 DPoP, and a linter for tokens seen in the wild.

Pure core: no UI imports. All JOSE goes through joserfc; only PS256, ES256 and EdDSA are
signed or accepted (security requirement 7). Nothing here prints or logs a token; use
``token_fingerprint`` to refer to one.
"""

from __future__ import annotations

from workbench.tokens._jose import (
    ALLOWED_ALGS,
    InvalidClientError,
    InvalidTokenError,
    alg_for_key,
    token_fingerprint,
)
from workbench.tokens.assertion import (
    ASSERTION_TYPE,
    assertion_form,
    client_assertion,
    verify_client_assertion,
)
from workbench.tokens.bound import issue_bound_token, verify_bound_token
from workbench.tokens.dpop import access_token_hash, dpop_proof, normalize_htu
from workbench.tokens.lint import TokenLint, lint_token
from workbench.tokens.thumbprints import jwk_thumbprint, public_jwk, x5t_s256

__all__ = [
    "ALLOWED_ALGS",
    "ASSERTION_TYPE",
    "InvalidClientError",
    "InvalidTokenError",
    "TokenLint",
    "access_token_hash",
    "alg_for_key",
    "assertion_form",
    "client_assertion",
    "dpop_proof",
    "issue_bound_token",
    "jwk_thumbprint",
    "lint_token",
    "normalize_htu",
    "public_jwk",
    "token_fingerprint",
    "verify_bound_token",
    "verify_client_assertion",
    "x5t_s256",
]
