"""The one secret detector (workbench.secrets.secret_kind): which shape it names, in order."""

import pytest

from workbench.secrets import secret_kind

PEM = "-----BEGIN EC " + "PRIVATE KEY-----"  # built here: no key block in the tree
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
AWS = "AKIAWBCANARY00000009"
TOKEN = "ghp_" + "a1B2" * 9


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"key: {PEM} ...", "PEM private key"),
        (f"Authorization: Bearer {JWT}", "JWT"),
        (f"aws_access_key_id = {AWS}", "AWS access key id"),
        (f"token={TOKEN}", "API token"),
        # Two shapes: the kind is the first in the detector's order, not the first in the text.
        (f"{AWS} then {JWT}", "JWT"),
        (f"{TOKEN} {AWS} {PEM}", "PEM private key"),
        ("spiffe://acme.test/prod/payments-api", None),
        ("2026-12-08T19:00:00+00:00 and more words", None),
        ("XAKIAWBCANARY00000009", None),  # an AWS id only stands alone
    ],
)
def test_each_shape_is_named(text, kind):
    assert secret_kind(text, entropy=False) == kind


def test_random_tokens_are_found_only_when_asked():
    token = "Zx8Qp2LmN4vR7sT1uW3yA5bC9dE0fG6h"
    assert secret_kind(f"value {token}") == "high-entropy token"
    assert secret_kind(f"value {token}", entropy=False) is None
    assert secret_kind("a" * 8 + "f00d" * 10, hex_is_public=True) is None
