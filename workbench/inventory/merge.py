"""Merge an imported inventory into an existing one.

Rules (``merge_inventories(base, incoming)``), chosen so that importing the same report
twice changes nothing (idempotent) and ids never move:

- APIs and services: the base wins for an id it already has; new ids are appended. The
  ``unassigned`` placeholder API is only added while some key still points at it.
- Keys: an incoming key matches a base key with the same ``fingerprint`` (both set), or
  else the same id. A match keeps the base key and unions ``found_in`` and ``tags``
  (base order first) and fills ``fingerprint``/``created``/``secret_ref`` if the base had
  none. An unmatched key is appended; if its id is taken by a different key it gets the
  first free ``<id>-2``, ``<id>-3``... (still a safe id).
- Integrations: union by (consumer, key), with incoming key ids mapped as above.
"""

from __future__ import annotations

from dataclasses import replace

from workbench.inventory.findings import UNASSIGNED_API_ID
from workbench.inventory.model import Integration, Inventory, Key

__all__ = ["merge_inventories"]


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """``a`` then what ``b`` adds, in order, without repeats (linear: a dict as ordered set)."""
    return tuple(dict.fromkeys(a + b))


def _free_id(wanted: str, taken: set[str]) -> str:
    if wanted not in taken:
        return wanted
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = wanted[: 63 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def merge_inventories(base: Inventory, incoming: Inventory) -> Inventory:
    """``base`` with ``incoming`` folded in (see the module docstring)."""
    apis = list(base.apis)
    api_ids = {a.id for a in apis}
    apis += [a for a in incoming.apis if a.id not in api_ids]
    services = list(base.services)
    svc_ids = {s.id for s in services}
    services += [s for s in incoming.services if s.id not in svc_ids]

    keys = list(base.keys)
    index_by_id = {k.id: n for n, k in enumerate(keys)}
    index_by_fp = {k.fingerprint: n for n, k in enumerate(keys) if k.fingerprint}
    renamed: dict[str, str] = {}
    for key in incoming.keys:
        n = index_by_fp.get(key.fingerprint) if key.fingerprint else None
        if n is None and key.id in index_by_id:
            other = keys[index_by_id[key.id]]
            if not (key.fingerprint and other.fingerprint):
                n = index_by_id[key.id]
        if n is not None:
            old = keys[n]
            keys[n] = replace(
                old,
                found_in=_union(old.found_in, key.found_in),
                tags=_union(old.tags, key.tags),
                fingerprint=old.fingerprint or key.fingerprint,
                created=old.created or key.created,
                secret_ref=old.secret_ref or key.secret_ref,
            )
            if old.fingerprint is None and key.fingerprint:
                index_by_fp[key.fingerprint] = n
            renamed[key.id] = old.id
            continue
        new_id = _free_id(key.id, set(index_by_id))
        new_key: Key = key if new_id == key.id else replace(key, id=new_id)
        index_by_id[new_id] = len(keys)
        if key.fingerprint:
            index_by_fp[key.fingerprint] = len(keys)
        keys.append(new_key)
        renamed[key.id] = new_id

    integrations = list(base.integrations)
    pairs = {(i.consumer, i.key) for i in integrations}
    for i in incoming.integrations:
        mapped: Integration = replace(i, key=renamed.get(i.key, i.key))
        if (mapped.consumer, mapped.key) not in pairs:
            pairs.add((mapped.consumer, mapped.key))
            integrations.append(mapped)

    if not any(k.api == UNASSIGNED_API_ID for k in keys):
        apis = [a for a in apis if a.id != UNASSIGNED_API_ID or a.id in api_ids]
    return Inventory(
        apis=tuple(apis),
        services=tuple(services),
        keys=tuple(keys),
        integrations=tuple(integrations),
        version=base.version,
        trust_domain=base.trust_domain or incoming.trust_domain,
        source=base.source,
    )
