"""Certificate authority core: keys, profiles, issuance, revocation/CRLs, key storage.

Pure functions and value objects; no UI imports. ``LocalCA`` implements the ``Issuer``
protocol so an external CA can replace it.
"""

from __future__ import annotations

from workbench.pki.bundle import DEFAULT_PKCS12_ROUNDS, make_pkcs12
from workbench.pki.ca import LocalCA
from workbench.pki.cakeys import DEFAULT_KDF_ROUNDS
from workbench.pki.certs import (
    DEFAULT_CLIENT_LIFETIME,
    DEFAULT_SERVER_LIFETIME,
    IssuedCertificate,
    IssueRequest,
)
from workbench.pki.crl import CRLSet, Revoked, build_crl, crl_number_of, parse_reason
from workbench.pki.issuer import Issuer, issue_via_csr, make_csr
from workbench.pki.keys import (
    DEFAULT_ALGORITHM,
    KEY_ALGORITHMS,
    check_public_key,
    generate_private_key,
)
from workbench.pki.keystore import (
    SecureDirectory,
    fsync_paths,
    write_private_key,
    write_public_file,
    write_secret_file,
)
from workbench.pki.profiles import spiffe_id
from workbench.pki.thumbprint import sha256_fingerprint, x5t_s256

__all__ = [
    "DEFAULT_ALGORITHM",
    "DEFAULT_CLIENT_LIFETIME",
    "DEFAULT_KDF_ROUNDS",
    "DEFAULT_PKCS12_ROUNDS",
    "DEFAULT_SERVER_LIFETIME",
    "KEY_ALGORITHMS",
    "CRLSet",
    "IssueRequest",
    "IssuedCertificate",
    "Issuer",
    "LocalCA",
    "Revoked",
    "SecureDirectory",
    "build_crl",
    "check_public_key",
    "crl_number_of",
    "fsync_paths",
    "generate_private_key",
    "issue_via_csr",
    "make_csr",
    "make_pkcs12",
    "parse_reason",
    "sha256_fingerprint",
    "spiffe_id",
    "write_private_key",
    "write_public_file",
    "write_secret_file",
    "x5t_s256",
]
