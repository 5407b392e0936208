"""Helpers of the report-format tests: run the CLI on a fixture, read its answer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from workbench.cli import main

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
HUNT = "wbCanaryHunt_9Zx8Yw7Vu6Ts5Rq4"
OTHER = "wbCanaryOther_3Kd8Lp2Qm7Nx"
HUNT_FP = hashlib.sha256(HUNT.encode()).hexdigest()[:12]
OTHER_FP = hashlib.sha256(OTHER.encode()).hexdigest()[:12]
PROD = "repo:config/prod.env:12@0a1b2c3d4e5f"
VALUES = "repo:deploy/values.yaml:3"


def run_import(capsys, kind: str, path: Path, *extra: str) -> dict:
    """``workbench import KIND PATH --json``: the summary with the inventory, exit 0."""
    code = main(["import", kind, str(path), "--json", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "wbCanary" not in out + err  # req. 11: only fingerprints
    return json.loads(out)


def keys_of(summary: dict) -> dict[str, dict]:
    return {k["id"]: k for k in summary["inventory"].get("keys", [])}


def refused(capsys, argv: list[str]) -> tuple[str, dict]:
    """The one stderr line of a refused command, and its --json object."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    (line,) = err.splitlines()
    assert main([*argv, "--json"]) == 2
    out, err = capsys.readouterr()
    assert "wbCanary" not in line + err
    return line, json.loads(err)
