"""Test PKI for the gateway tests: root -> intermediate -> leaves, CRLs, and a foreign CA.

The tests' own CA (tests/testca.py, cryptography only), so these tests do not depend on
workbench.pki. Leaves look like the workbench PKI's: subject O=<trust domain>, CN=<service>,
URI SAN ``spiffe://acme.test/prod/<service>``, EKU clientAuth.
"""

from __future__ import annotations

import pytest
from testca import TD, Identity, TestPKI, spiffe  # noqa: F401 - re-exported for the gateway tests
from testkit import ensure_gateway_available, gateway_param, nginx_available  # noqa: F401


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> TestPKI:
    return TestPKI(tmp_path_factory.mktemp("pki"))
