"""SecretValue redaction and secret reference resolution (req. 11, 12)."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import pickle

import pytest

from workbench.errors import WorkbenchError
from workbench.secrets import (
    SecretRefError,
    SecretValue,
    key_fingerprint,
    refuse_secret_json,
    resolve_secret_ref,
)

CANARY = "canary-Zq8vJ2pX1mRt9LbK"
FP = hashlib.sha256(CANARY.encode()).hexdigest()[:12]


def test_fingerprint_is_first_12_hex_of_sha256():
    assert key_fingerprint(CANARY) == FP
    assert key_fingerprint(CANARY.encode()) == FP
    assert SecretValue(CANARY).fingerprint == FP


def test_every_text_form_shows_only_the_fingerprint(caplog):
    s = SecretValue(CANARY)
    texts = [repr(s), str(s), f"{s}", f"{s!r}", f"{s:>40}", repr([s])]
    texts += ["%s" % s, "{}".format(s)]  # noqa: UP031, UP032 - the old APIs must redact too
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("value %s", s)
    texts.append(caplog.text)
    for text in texts:
        assert CANARY not in text
        assert FP in text
    assert repr(s) == f"SecretValue(fp={FP})"
    assert s.reveal() == CANARY


def test_json_refuses():
    s = SecretValue(CANARY)
    with pytest.raises(TypeError) as info:
        json.dumps({"k": s})
    assert CANARY not in str(info.value)
    with pytest.raises(TypeError) as info:
        json.dumps([s], default=refuse_secret_json)
    assert CANARY not in str(info.value) and FP in str(info.value)
    assert not isinstance(s, str)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_refuses(protocol):
    with pytest.raises(TypeError) as info:
        pickle.dumps(SecretValue(CANARY), protocol=protocol)
    assert CANARY not in str(info.value)


def test_immutable_equal_and_copy_does_not_duplicate():
    s = SecretValue(CANARY)
    with pytest.raises(AttributeError):
        s._value = "x"  # type: ignore[misc]
    assert s == SecretValue(CANARY) and s != SecretValue("other")
    assert copy.copy(s) is s and copy.deepcopy(s) is s
    assert len({s, SecretValue(CANARY)}) == 1
    assert not hasattr(s, "__dict__")


def test_env_ref():
    assert resolve_secret_ref("env:OLD", environ={"OLD": CANARY}).reveal() == CANARY


def test_missing_env_names_the_variable():
    with pytest.raises(SecretRefError, match="environment variable OLD_KEY is not set") as info:
        resolve_secret_ref("env:OLD_KEY", environ={})
    assert isinstance(info.value, WorkbenchError) and info.value.exit_status == 2


@pytest.mark.parametrize("value", ["", "\n", f"{CANARY}\r\nX-Evil: 1", f"a\x00{CANARY}"])
def test_bad_values_are_refused_without_echo(value):
    with pytest.raises(SecretRefError) as info:
        resolve_secret_ref("env:V", environ={"V": value})
    assert CANARY not in str(info.value)


@pytest.mark.parametrize("ref", ["OLD", "env:", "vault:x/y", ":x"])
def test_bad_refs(ref):
    with pytest.raises(SecretRefError):
        resolve_secret_ref(ref, environ={})


def _write(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, mode)


def test_file_ref_relative_to_base_dir(tmp_path):
    (tmp_path / "keys").mkdir()
    _write(tmp_path / "keys" / "k.key", CANARY + "\n")
    assert resolve_secret_ref("file:keys/k.key", tmp_path).reveal() == CANARY


def test_file_symlink_is_refused(tmp_path):
    _write(tmp_path / "real.key", CANARY)
    (tmp_path / "link.key").symlink_to(tmp_path / "real.key")
    with pytest.raises(SecretRefError, match="symlink"):
        resolve_secret_ref("file:link.key", tmp_path)


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o620, 0o666])
def test_loose_permissions_are_refused(tmp_path, mode):
    _write(tmp_path / "k.key", CANARY, mode)
    with pytest.raises(SecretRefError, match="chmod 600") as info:
        resolve_secret_ref("file:k.key", tmp_path)
    assert CANARY not in str(info.value)


@pytest.mark.parametrize("mode", [0o640, 0o610, 0o601])
def test_group_or_world_access_is_refused_req_28(tmp_path, mode):
    _write(tmp_path / "k.key", CANARY, mode)
    with pytest.raises(SecretRefError, match="group or others"):
        resolve_secret_ref("file:k.key", tmp_path)
    os.chmod(tmp_path / "k.key", 0o600)
    assert resolve_secret_ref("file:k.key", tmp_path).reveal() == CANARY


def test_missing_dir_and_huge_files(tmp_path):
    with pytest.raises(SecretRefError, match="does not exist"):
        resolve_secret_ref("file:nope.key", tmp_path)
    (tmp_path / "d").mkdir(mode=0o700)
    with pytest.raises(SecretRefError):
        resolve_secret_ref("file:d", tmp_path)
    _write(tmp_path / "big.key", "x" * 70000)
    with pytest.raises(SecretRefError, match="larger"):
        resolve_secret_ref("file:big.key", tmp_path)
