"""The lab: the sample company run for real, above the core (a front end's rehearsal ground).

- :mod:`.env`: backend process, static keys, gateway processes (one per port), PID files.
- :mod:`.workspace`: the lab of one workspace (its own state), started with its CA.
- :mod:`.handle`: the lab behind the core's gateway interface (kind ``lab``).
- :mod:`.plugin`: registers that kind; the CLI calls :func:`.plugin.plug_in` at start.
- :mod:`.traffic`, :mod:`.consumers`: simulated consumers calling the APIs.
- :mod:`.backend`, :mod:`.authserver`: the processes it runs.

The data (``sample_env/inventory.yaml``) lives at the top of the repository. The core never
imports this package (an import-linter contract in ``pyproject.toml``, checked by a test).
"""

from importlib import import_module
from typing import Any

__all__ = ["EnvStatus", "SampleEnv", "inventory_port"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("workbench.lab.env"), name)
    raise AttributeError(f"module 'workbench.lab' has no attribute {name!r}")
