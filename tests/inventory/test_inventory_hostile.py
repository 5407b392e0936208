"""Hostile inputs (requirement 19): one located line each, exit 2, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import InventoryError
from workbench.inventory import load_inventory, yamlsafe

LOCATED = re.compile(r"^[^:]+:\d+:\d+: ")

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)

CORPUS: dict[str, tuple[bytes, str]] = {
    "alias-bomb": (ALIAS_BOMB.encode(), "anchors (&name) and aliases (*name) are not allowed"),
    "anchor-only": (
        b"version: 1\napis: &x []\n",
        "anchors (&name) and aliases (*name) are not allowed",
    ),
    "duplicate-keys": (b"version: 1\napis: []\napis: []\n", "duplicate key 'apis'"),
    "python-tag": (b"version: 1\nx: !!python/object/apply:os.system [echo]\n", "tags (!...)"),
    "custom-tag": (b"version: 1\napis: !foo []\n", "tags (!...)"),
    "deep-flow": (
        b"version: 1\nx: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "nested deeper than 64 levels",
    ),
    "deep-block": (
        b"".join(b"  " * i + b"- \n" for i in range(200)) + b"  " * 200 + b"x\n",
        "nested deeper than 64 levels",
    ),
    "deep-compact": (b"- " * 100_000 + b"x\n", "nested deeper than 64 levels"),
    "NO-id": (
        b"version: 1\nservices:\n  - id: NO\n    owner: a\n    environment: prod\n"
        b"    exposure: internal\n",
        "id: 'NO' is read as a number, boolean",
    ),
    "0777-id": (
        b"version: 1\nservices:\n  - id: 0777\n    owner: a\n    environment: prod\n"
        b"    exposure: internal\n",
        "id: '0777' is read as a number",
    ),
    "on-owner": (
        b"version: 1\nservices:\n  - id: a\n    owner: on\n    environment: prod\n"
        b"    exposure: internal\n",
        "owner: 'on' is read as",
    ),
    "non-utf8": (b"version: 1\nnotes: caf\xe9\n", "not valid UTF-8"),
    "empty": (b"", "file is empty"),
    "only-comment": (b"# nothing\n", "file is empty"),
    "list-at-top": (b"- id: a\n", "expected a mapping at the top"),
    "scalar-at-top": (b"hello\n", "expected a mapping at the top"),
    "two-documents": (b"version: 1\n---\nversion: 1\n", "more than one YAML document"),
    "syntax": (b"version: 1\napis: [\n", "YAML syntax error"),
    "control-char": (b'version: 1\nx: "\x07"\n', "character not allowed"),
    "complex-key": (b"version: 1\n? [a, b]\n: c\n", "mapping keys must be plain names"),
    "pem": (
        b"version: 1\nservices:\n  - id: a\n    owner: a\n    environment: prod\n"
        b'    exposure: internal\n    notes: "-----BEGIN RSA PRIV'
        b'ATE KEY-----\\nMIIBOgIB"\n',
        "looks like a pasted secret (PEM private key)",
    ),
    "jwt": (
        b"version: 1\nservices:\n  - id: a\n    owner: a\n    environment: prod\n"
        b"    exposure: internal\n    tags: [eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln]\n",
        "looks like a pasted secret (JWT)",
    ),
    "entropy": (
        b"version: 1\nservices:\n  - id: a\n    owner: a\n    environment: prod\n"
        b"    exposure: internal\n    notes: token Qm9Zr7Xw2Kp5Ls8Vn3Hd6Tj1Fb4Gy0Ac\n",
        "looks like a pasted secret (high-entropy token)",
    ),
    "bad-version-type": (b"version: one\n", "version must be a whole number"),
}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_input_gives_located_lines(tmp_path, name):
    data, expect = CORPUS[name]
    path = write(tmp_path, name, data)
    with pytest.raises(InventoryError) as exc:
        load_inventory(path)
    lines = exc.value.lines()
    assert lines and all(LOCATED.match(line) for line in lines), lines
    assert all("\n" not in line for line in lines)
    assert any(expect in line for line in lines), lines


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_input_through_the_cli(tmp_path, capsys, name):
    data, expect = CORPUS[name]
    path = write(tmp_path, name, data)
    assert main(["inventory", "check", str(path)]) == 2
    captured = capsys.readouterr()
    err_lines = captured.err.splitlines()
    assert err_lines and all(LOCATED.match(line) for line in err_lines), err_lines
    assert "Traceback" not in captured.err and captured.out == ""
    assert any(expect in line for line in err_lines)


def test_secret_values_never_reach_stderr(tmp_path, capsys):
    for name in ("pem", "jwt", "entropy"):
        main(["inventory", "check", str(write(tmp_path, name, CORPUS[name][0]))])
    err = capsys.readouterr().err
    for fragment in ("MIIBOgIB", "eyJhbGci", "Qm9Zr7Xw2Kp5"):
        assert fragment not in err


def test_alias_bomb_fails_fast(tmp_path):
    import time

    path = write(tmp_path, "bomb", ALIAS_BOMB.encode())
    start = time.perf_counter()
    with pytest.raises(InventoryError):
        load_inventory(path)
    assert time.perf_counter() - start < 1.0


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, "huge", b"version: 1\n" + b"# padding\n" * 200)
    with pytest.raises(InventoryError) as exc:
        load_inventory(path, max_bytes=1024)
    assert exc.value.lines() == [
        f"{path}:0:0: file is larger than 1 KiB; split it, or raise the guard with "
        "--max-bytes (e.g. --max-bytes 256M)"
    ]


def test_real_size_bound_is_64_mib(tmp_path):
    assert yamlsafe.MAX_BYTES == 64 * 1024 * 1024
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(yamlsafe.MAX_BYTES + 1)  # sparse: costs no disk or time
    with pytest.raises(InventoryError) as exc:
        load_inventory(path)
    assert "larger than 64 MiB" in exc.value.lines()[0]


def test_missing_file_is_a_located_error(tmp_path, capsys):
    assert main(["inventory", "check", str(tmp_path / "nope.yaml")]) == 2
    assert re.match(r"^.*nope\.yaml:0:0: cannot read: No such file", capsys.readouterr().err)


def test_many_problems_are_capped(tmp_path):
    body = "version: 1\nintegrations:\n" + "".join(
        f"  - {{consumer: c{i}, key: k{i}}}\n" for i in range(500)
    )
    with pytest.raises(InventoryError) as exc:
        load_inventory(write(tmp_path, "many", body.encode()))
    lines = exc.value.lines()
    assert len(lines) == 201 and "more problems not shown" in lines[-1]
