"""`make demo`: the main job end to end on the sample environment (grows with each capability)."""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_env" / "inventory.yaml"


def run() -> int:
    print(f"== workbench demo on {SAMPLE.relative_to(ROOT)}")
    return cli(["--help"])


if __name__ == "__main__":
    sys.exit(run())
