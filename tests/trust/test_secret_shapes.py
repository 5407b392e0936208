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


@pytest.mark.parametrize(
    "token",
    [
        "ghp_" + "a1B2" * 8,
        "gho_" + "a1B2" * 8,
        "ghs_" + "a1B2" * 8,
        "github_pat_" + "a1B2_" * 7,
        "glpat-" + "a1B2-" * 5,
        "xoxb-" + "1234567890-abcdefgh",
        "xoxp-" + "1234567890-abcdefgh",
        "sk_live_" + "a1B2" * 4,
        "rk_test_" + "a1B2" * 4,
        "AIza" + "a1B2_" * 7,
    ],
)
def test_every_token_prefix_is_found_inside_text(token):
    """Each well-known prefix, at the start of the text and after other text (the one-pass
    search skips positions by their first character)."""
    assert secret_kind(token, entropy=False) == "API token"
    assert secret_kind(f"x-header: {token} trailing", entropy=False) == "API token"


def test_hex_is_read_by_its_case():
    """Lower-case hex (digests, serials) can hold no shape, so it goes straight to the entropy
    rule; upper-case hex can hold an AWS id ("ACCA" and 16 more hex digits)."""
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert secret_kind(digest) == "high-entropy token"
    assert secret_kind(digest, hex_is_public=True) is None
    assert secret_kind(digest, entropy=False) is None
    assert secret_kind("ACCA0123456789ABCDEF", entropy=False) == "AWS access key id"
    assert secret_kind("acca0123456789abcdef", entropy=False) is None
