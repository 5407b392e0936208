"""Runtime of the sample environment: backend process, static keys, gateway, PID files.

The data (``sample_env/inventory.yaml``) lives at the top of the repository; this package
runs it. See :class:`workbench.sample_env.env.SampleEnv`.
"""

from workbench.sample_env.env import EnvStatus, SampleEnv, inventory_port

__all__ = ["EnvStatus", "SampleEnv", "inventory_port"]
