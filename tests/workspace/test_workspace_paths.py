"""Safe names and paths (req. 9, 21)."""

import os

import pytest

from workbench.errors import UnsafePathError
from workbench.workspace.paths import check_name, ensure_private_dir, safe_join

HOSTILE = [
    "..",
    ".",
    "../etc",
    "a/../../b",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "a\x00b",
    "pay\u202ements",  # RIGHT-TO-LEFT OVERRIDE
    "p\u0430yments",  # Cyrillic small a
    "payments\n",  # `$` alone would accept a trailing newline
    "Payments",
    "-rf",
    ".hidden",
    "",
    "a" * 64,
    "caf\u00e9",
    "x\u200by",  # zero-width space
    " payments",
    "a..b",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused(tmp_path, name):
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, name)
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, "certs", name)


def test_error_message_escapes_bidi_controls(tmp_path):
    with pytest.raises(UnsafePathError) as info:
        check_name("evil\u202etxt.exe")
    assert "\u202e" not in str(info.value)
    assert "\\u202e" in str(info.value)


@pytest.mark.parametrize("name", ["payments-api", "k1", "a.b_c-d", "0", "a" * 63, "f00d.chain.pem"])
def test_safe_names_join_inside_base(tmp_path, name):
    p = safe_join(tmp_path, "certs", name)
    assert p == tmp_path.resolve() / "certs" / name


def test_non_string_is_refused(tmp_path):
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, 5)  # type: ignore[arg-type]
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path)


def test_symlink_planted_on_the_way_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    base = tmp_path / "ws"
    (base / "certs").mkdir(parents=True)
    (base / "certs" / "step").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="symlink"):
        safe_join(base, "certs", "step", "k1", "svc")
    # a link at the leaf is refused too, even one pointing inside the base
    (base / "certs" / "inside").mkdir()
    (base / "certs" / "leaf").symlink_to(base / "certs" / "inside")
    with pytest.raises(UnsafePathError, match="symlink"):
        safe_join(base, "certs", "leaf")


def test_base_reached_through_a_symlink_is_allowed(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    alias = tmp_path / "alias"
    alias.symlink_to(real)
    assert safe_join(alias, "x") == real / "x"


def test_private_dir_is_0700_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        d = ensure_private_dir(tmp_path / "a" / "b" / "c")
        (tmp_path / "loose").mkdir(mode=0o777)
        ensure_private_dir(tmp_path / "loose")
    finally:
        os.umask(old)
    for p in (tmp_path / "a", tmp_path / "a" / "b", d, tmp_path / "loose"):
        assert p.stat().st_mode & 0o777 == 0o700, p


def test_private_dir_refuses_symlink_and_file(tmp_path):
    target = tmp_path / "target"
    target.mkdir(mode=0o755)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(UnsafePathError, match="symlink"):
        ensure_private_dir(tmp_path / "link")
    assert target.stat().st_mode & 0o777 == 0o755  # not chmod-ed through the link
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnsafePathError, match="not a directory"):
        ensure_private_dir(tmp_path / "file")
