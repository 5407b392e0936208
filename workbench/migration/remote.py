"""Issuers that sign over the network (Vault): concurrent signing and audited receipts.

A local CA signs in ~0.3 ms, so the workspace issues one certificate after the other. A
remote CA costs a round trip per certificate: ``presign`` asks it for many at once from a
bounded thread pool (the Vault client's connection pool has the same bound) before anything
is written, so a refusal of any one leaves the workspace untouched and a re-run converges.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from workbench.migration.campaign import Campaign

__all__ = ["DEFAULT_CONCURRENCY", "audit_receipts", "is_remote", "presign"]

DEFAULT_CONCURRENCY = 8
K = TypeVar("K", bound=Hashable)


def is_remote(issuer: Any) -> bool:
    """Whether signing is a network call (worth doing concurrently)."""
    return bool(getattr(issuer, "remote", False))


def presign(
    jobs: Sequence[tuple[K, Callable[[], Any]]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Callable[[int], None] | None = None,
) -> dict[K, Any]:
    """Run every ``make()`` with at most ``concurrency`` in flight; results by key.

    The first failure (in job order) is raised after every job has ended, so no thread
    is left running against a workspace that is being closed."""
    if not jobs:
        return {}
    results: dict[K, Any] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs)))) as pool:
        futures = [(key, pool.submit(make)) for key, make in jobs]
        error: BaseException | None = None
        for key, future in futures:
            try:
                results[key] = future.result()
            except BaseException as exc:  # re-raised below, once every job has ended
                error = error or exc
            if progress is not None:
                progress(1)
    if error is not None:
        raise error
    return results


def audit_receipts(campaign: Campaign) -> int:
    """Write the issuer's receipts (Vault path, serial, request id) into the audit chain.

    Call inside the transaction that records what was signed; returns how many."""
    issuer = campaign._ca  # only an issuer already opened can hold receipts
    drain = getattr(issuer, "drain_receipts", None)
    if drain is None:
        return 0
    receipts = drain()
    if receipts:
        campaign.workspace.audit_many(receipts, now=campaign.now())
    return len(receipts)
