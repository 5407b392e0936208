"""Atomic, optionally durable file writes: the workspace's names for :mod:`workbench.fsio`
(the one durable-write layer), kept so existing imports stay valid."""

from workbench.fsio import (
    DurableBatch,
    atomic_write,
    fsync_dir,
    remove_stale_temps,
    sync_filesystem,
)

__all__ = ["DurableBatch", "atomic_write", "fsync_dir", "remove_stale_temps", "sync_filesystem"]
