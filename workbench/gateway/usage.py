"""Read the gateways' JSON Lines access logs: who still uses an old key, and when last.

Both gateways write the same fields: ``time`` (ISO 8601 UTC), ``api``, ``method``, ``path``,
``status``, ``auth`` (``key`` | ``cert`` | ``none``), ``identity`` (key fingerprint, SPIFFE
id, ``cn:<CN>`` for a refused certificate, or empty), ``client_ip``, ``user_agent``,
``gateway``. A key alone does not tell consumers apart, so a report gives counts, first and
last use, client IPs and user agents.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.errors import GatewayError

__all__ = ["UsageReport", "parse_time", "read_usage"]


@dataclass(frozen=True)
class UsageReport:
    """Use of one key fingerprint (or of everything matching the filters) in an access log."""

    log_path: str
    """The log that was read."""
    api: str | None
    """API filter, if any."""
    key_fingerprint: str | None
    """Fingerprint filter, if any (first 12 hex of SHA-256 of the key)."""
    since: datetime | None
    """Only lines at or after this time were counted."""
    requests: int
    """Matching lines."""
    accepted: int
    """Matching requests the gateway let through with that key (``auth == "key"``, status < 400)."""
    refused: int
    """Matching requests refused (status 401/403): e.g. callers still sending a retired key."""
    first_seen: datetime | None
    """Earliest matching line."""
    last_seen: datetime | None
    """Latest matching line."""
    last_accepted: datetime | None
    """Latest matching request that was let through."""
    client_ips: tuple[str, ...]
    """Distinct client addresses, most frequent first."""
    user_agents: tuple[str, ...]
    """Distinct user agents, most frequent first."""
    statuses: dict[int, int]
    """HTTP status -> count."""
    apis: tuple[str, ...]
    """APIs the matching requests went to."""
    skipped_lines: int
    """Lines that were not valid access-log JSON (counted, not fatal)."""
    clients: tuple[tuple[str, int, datetime], ...] = ()
    """Per caller (user agent, else client address): requests and last seen, busiest first."""

    @property
    def still_used(self) -> bool:
        """True when the key was accepted at least once in the window."""
        return self.accepted > 0


def parse_time(value: str) -> datetime:
    """ISO 8601 -> aware UTC datetime (a naive value is taken as UTC)."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def read_usage(
    log_path: str | Path,
    *,
    api: str | None = None,
    key_fingerprint: str | None = None,
    since: datetime | None = None,
    exclude_agents: tuple[str, ...] = (),
    exclude_runs: tuple[tuple[str, datetime, datetime], ...] = (),
) -> UsageReport:
    """Scan ``log_path`` once and summarise the lines matching every given filter.

    ``exclude_runs`` drops the verifier's own probes (they present the old key on purpose):
    ``(token, start, end)`` of each recorded run; a line is left out only when its user agent
    carries that run's random token and its time falls inside the run (req. 33), so a caller
    copying the verifier's User-Agent is still counted. ``exclude_agents`` (prefixes) is for
    callers that know their own agents."""
    slack = timedelta(seconds=2)  # log times are whole seconds
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    requests = accepted = refused = skipped = 0
    first = last = last_ok = None
    ips: Counter[str] = Counter()
    agents: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    apis: Counter[str] = Counter()
    per_client: dict[str, tuple[int, datetime]] = {}
    try:
        fh = open(log_path, encoding="utf-8", errors="replace")  # noqa: SIM115
    except FileNotFoundError:
        raise GatewayError(f"{log_path}: no access log yet: start the gateway first") from None
    except OSError as exc:
        raise GatewayError(f"{log_path}: cannot read access log ({exc.strerror})") from None
    with fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                when = parse_time(rec["time"])
                status = int(rec["status"])
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            if api is not None and rec.get("api") != api:
                continue
            if key_fingerprint is not None and rec.get("identity") != key_fingerprint:
                continue
            if since is not None and when < since:
                continue
            agent = str(rec.get("user_agent") or "")
            if exclude_agents and agent.startswith(exclude_agents):
                continue
            if exclude_runs and any(
                token in agent and start - slack <= when <= end + slack
                for token, start, end in exclude_runs
            ):
                continue
            requests += 1
            caller = agent or str(rec.get("client_ip", "")) or "unknown"
            count, seen = per_client.get(caller, (0, when))
            per_client[caller] = (count + 1, max(seen, when))
            first = when if first is None or when < first else first
            last = when if last is None or when > last else last
            if rec.get("auth") == "key" and status < 400:
                accepted += 1
                last_ok = when if last_ok is None or when > last_ok else last_ok
            elif status in (401, 403):
                refused += 1
            ips[str(rec.get("client_ip", ""))] += 1
            if rec.get("user_agent"):
                agents[str(rec["user_agent"])] += 1
            statuses[status] += 1
            apis[str(rec.get("api", ""))] += 1
    return UsageReport(
        log_path=str(log_path),
        api=api,
        key_fingerprint=key_fingerprint,
        since=since,
        requests=requests,
        accepted=accepted,
        refused=refused,
        first_seen=first,
        last_seen=last,
        last_accepted=last_ok,
        client_ips=tuple(ip for ip, _ in ips.most_common()),
        user_agents=tuple(a for a, _ in agents.most_common()),
        statuses=dict(sorted(statuses.items())),
        apis=tuple(a for a, _ in apis.most_common()),
        skipped_lines=skipped,
        clients=tuple(
            (c, n, t) for c, (n, t) in sorted(per_client.items(), key=lambda i: (-i[1][0], i[0]))
        ),
    )
