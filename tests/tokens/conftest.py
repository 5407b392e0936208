"""Token-test fixtures live in tokens_support.py (importable by basename, unlike conftest)."""

from tokens_support import (  # noqa: F401  (fixtures are found by name)
    any_key,
    client_cert,
    client_key,
    ec_key,
    ed_key,
    other_cert,
    rsa_key,
)
