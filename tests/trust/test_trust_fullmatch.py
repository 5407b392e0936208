"""Requirement 27: validators use fullmatch (``$`` alone accepts a trailing newline).

Each value below passed its check with ``re.match(r"^...$")`` and then ended a line of an
nginx config or a key map early.
"""

from __future__ import annotations

import pytest

from workbench.errors import GatewayError
from workbench.gateway.authz import check_key_value
from workbench.gateway.nginx import _check_path
from workbench.gateway.spec import Route


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_id": "pay-api\n"},
        {"key_header": "X-API-Key\n"},
        {"allowed_identities": ("spiffe://acme.test/prod/shop\n",)},
        {"token_audience": "https://as.test/pay\n"},
    ],
)
def test_a_trailing_newline_is_refused_in_every_route_field(kwargs):
    base = {"api_id": "pay-api", "path_prefix": "/pay-api", "mode": "dual"}
    base.update(kwargs)
    if base["api_id"] != "pay-api":
        base["path_prefix"] = "/pay-api\n"
    with pytest.raises(GatewayError):
        Route(**base)


def test_key_values_and_nginx_paths_with_a_trailing_newline_are_refused():
    with pytest.raises(GatewayError):
        check_key_value("A" * 20 + "\n", "keys/k.key")
    check_key_value("A" * 20, "keys/k.key")
    with pytest.raises(GatewayError):
        _check_path("/etc/ssl/server.pem\n", "server certificate")
    _check_path("/etc/ssl/server.pem", "server certificate")
