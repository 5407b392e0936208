"""Builders for playbook contexts: a realistic verified step, an unverified one, a failed one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.playbook import (
    ApiRef,
    AuditRef,
    CertificateRef,
    ClientUsage,
    ConsumerRef,
    KeyUsage,
    RiskReason,
    Schedule,
    TicketContext,
    VerdictRecord,
    WaveContext,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "playbooks" / "schema" / "ticket.v2.json"


def verdict(kind: str = "PASS") -> VerdictRecord:
    old_key_outcome = {"PASS": ("HTTP 401", "pass"), "FAIL": ("HTTP 200", "fail")}.get(
        kind, ("connection refused", "inconclusive")
    )
    return VerdictRecord.from_mapping(
        {
            "verdict": kind,
            "probes": [
                {
                    "name": "positive-control",
                    "expected": "accepted",
                    "observed": "HTTP 200",
                    "outcome": "pass",
                    "evidence": {
                        "url": "https://127.0.0.1:8443/payments",
                        "ip": "127.0.0.1",
                        "sni": "localhost",
                        "tls_version": "TLSv1.3",
                        "http_status": 200,
                    },
                },
                {
                    "name": "old-key-only",
                    "expected": "refused",
                    "observed": old_key_outcome[0],
                    "outcome": old_key_outcome[1],
                    "evidence": {"url": "https://127.0.0.1:8443/payments", "http_status": 401},
                },
            ],
            "reasons": [f"verdict {kind} from the probes"],
            "started": "2026-11-22T10:00:00+00:00",
            "finished": "2026-11-22T10:00:02+00:00",
        }
    )


def ticket(
    key: str = "payments-key", *, wave: int = 1, verified: str | None = "PASS", **changes: object
) -> TicketContext:
    ctx = TicketContext(
        step_key=key,
        api=ApiRef(
            "payments",
            "https://127.0.0.1:8443/payments",
            "team-payments",
            "prod",
            ("pci", "pii"),
            provided_by="payments-svc",
        ),
        consumers=(
            ConsumerRef("checkout", "team-web", "prod", "internet"),
            ConsumerRef("billing", "team-finance", "prod", "internal"),
        ),
        wave=wave,
        score=82.5,
        reasons=(
            RiskReason("data", 35.0, "API handles pci"),
            RiskReason("exposure", 25.0, "checkout is internet-facing"),
            RiskReason("age", 12.5, "key is 700 days old"),
        ),
        schedule=Schedule(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), 14),
        key_fingerprint="a1b2c3d4e5f6",
        gateway_mode="dual",
        certificates=(
            CertificateRef(
                "checkout",
                "4f3a9c",
                "ab" * 32,
                datetime(2027, 3, 1, tzinfo=UTC),
                ("/ws/render/checkout/nginx.conf",),
            ),
            CertificateRef("billing", "5e2b11", "cd" * 32, datetime(2027, 3, 1, tzinfo=UTC)),
        ),
        usage=KeyUsage(
            "/ws/logs/gateway.jsonl",
            (
                ClientUsage("10.0.0.7", 1200, datetime(2026, 11, 22, 23, 59, tzinfo=UTC)),
                ClientUsage("10.0.0.9", 3, None),
            ),
        ),
        verdict=verdict(verified) if verified else None,
        audit=(AuditRef(7, "issue", "0f" * 32), AuditRef(9, "verdict", "1e" * 32)),
        workspace="/ws",
        notes="Coordinate with the checkout on-call.",
    )
    return replace(ctx, **changes) if changes else ctx


def waves(*tickets: TicketContext) -> list[WaveContext]:
    by: dict[int, list[TicketContext]] = {}
    for t in tickets:
        by.setdefault(t.wave, []).append(t)
    return [WaveContext(n, tuple(ts)) for n, ts in sorted(by.items())]


@pytest.fixture
def sample_waves() -> list[WaveContext]:
    return waves(
        ticket("payments-key"),
        ticket("ledger-key", verified=None, gateway_mode="key-only", usage=None),
        ticket("search-key", wave=2, verified="FAIL", score=31.0),
    )
