"""Immutable records read from and written to the workspace database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from workbench import states
from workbench.errors import WorkspaceError
from workbench.states import GatewayMode, StepState

__all__ = [
    "ACTIVE_STATUSES",
    "CERT_KINDS",
    "CERT_STATUSES",
    "TRANSITIONS",
    "CertificateRecord",
    "GatewayChange",
    "Step",
    "Verdict",
    "WorkspaceInfo",
    "parse_member",
    "read_member",
]

# The forward path is planned -> issued -> dual -> cut_over -> verified. Any live state may
# fail or roll back; failed steps go back to planned, rolled-back ones (key re-enabled, the
# gateway in dual) may be cut over again once fixed.
_S = StepState
TRANSITIONS: dict[str, frozenset[str]] = {
    _S.PLANNED: frozenset({_S.ISSUED, _S.FAILED}),
    _S.ISSUED: frozenset({_S.DUAL, _S.FAILED, _S.ROLLED_BACK}),
    _S.DUAL: frozenset({_S.CUT_OVER, _S.FAILED, _S.ROLLED_BACK}),
    _S.CUT_OVER: frozenset({_S.VERIFIED, _S.FAILED, _S.ROLLED_BACK}),
    _S.VERIFIED: frozenset({_S.ROLLED_BACK, _S.CUT_OVER}),  # cut_over: a new mode to prove
    _S.FAILED: frozenset({_S.PLANNED, _S.ROLLED_BACK}),
    _S.ROLLED_BACK: frozenset({_S.PLANNED, _S.DUAL, _S.CUT_OVER}),
}
CERT_KINDS = ("client", "server", "ca")
CERT_STATUSES = ("active", "superseded", "revoked")
ACTIVE_STATUSES = ("active",)


def parse_time(text: str | None) -> datetime | None:
    """Inverse of the fixed-width ISO text the database stores."""
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


_Member = TypeVar("_Member", bound=StrEnum)


def parse_member(vocabulary: type[_Member], text: Any, what: str) -> _Member:
    """A caller's ``text`` as a member of ``vocabulary``, refused with the known names."""
    try:
        return vocabulary(text)
    except ValueError:
        raise WorkspaceError(
            f"unknown {what} {text!r}: use one of {', '.join(vocabulary)}"
        ) from None


def read_member(vocabulary: type[_Member], text: Any, where: str, what: str) -> _Member:
    """``text`` from a database row as a member of ``vocabulary``. A value the workbench
    does not know (a hand-edited or foreign database) is a WorkspaceError naming ``where``,
    ``what`` and the value: here, where rows become objects, not a traceback further on."""
    try:
        return vocabulary(text)
    except ValueError:
        raise WorkspaceError(
            f"{where} has {what} {text!r} in the database, which is not one of "
            f"{', '.join(vocabulary)} (edited outside the workbench?): `workbench audit "
            "verify` compares the database with its audit log"
        ) from None


@dataclass(frozen=True)
class WorkspaceInfo:
    """Workspace metadata written by ``Workspace.create``."""

    inventory_path: str
    """The inventory file the workspace was created from, as given."""
    inventory_sha256: str
    """SHA-256 hex of that file's bytes at creation."""
    trust_domain: str
    """SPIFFE trust domain, e.g. ``acme.test``."""
    created_at: datetime
    """Creation time (UTC)."""
    schema_version: int
    """Database schema version."""


@dataclass(frozen=True)
class Step:
    """One migration step: one old static key and the consumers moving off it."""

    key: str
    """Key id from the inventory (also the step's id)."""
    wave: int
    """Wave number from the plan."""
    api: str | None
    """The API the key unlocks."""
    consumers: tuple[str, ...]
    """Service ids that use the key today."""
    state: StepState
    """Where the step stands (stored as the member's text)."""
    reason: str | None
    """Why the last state change happened (free text, no secrets)."""
    updated_at: datetime
    """Time of the last state change (UTC)."""
    cut_over_at: datetime | None
    """Time of the last transition into ``cut_over`` (UTC), if any."""
    in_plan: bool
    """False when a later plan dropped a step that had already started."""
    key_fingerprint: str | None = None
    """Fingerprint of the old key if the plan gave one; verdicts must match it."""

    @classmethod
    def from_row(cls, row: Any) -> Step:
        return cls(
            key=row["key"],
            wave=row["wave"],
            api=row["api"],
            consumers=tuple(json.loads(row["consumers"])),
            state=read_member(StepState, row["state"], f"step {row['key']}", "state"),
            reason=row["reason"],
            updated_at=parse_time(row["updated_at"]),  # type: ignore[arg-type]
            cut_over_at=parse_time(row["cut_over_at"]),
            in_plan=bool(row["in_plan"]),
            key_fingerprint=row["key_fingerprint"],
        )


@dataclass(frozen=True)
class CertificateRecord:
    """A certificate the workspace knows about. Paths are relative to the workspace dir."""

    serial: str
    """Serial number, lower-case hex without separators (unique)."""
    service: str
    """The service (or gateway/api for server certs) the certificate identifies."""
    kind: str
    """``client``, ``server`` or ``ca``."""
    not_before: datetime
    """Start of validity (UTC)."""
    not_after: datetime
    """End of validity (UTC)."""
    sha256: str
    """SHA-256 hex of the DER certificate."""
    x5t_s256: str
    """RFC 8705 thumbprint: base64url(SHA-256(DER)), 43 chars."""
    step_key: str | None = None
    """The step this certificate belongs to (None for CA and gateway certificates)."""
    spiffe_id: str | None = None
    """SPIFFE URI SAN, if any."""
    cert_path: str | None = None
    """Certificate PEM, relative to the workspace."""
    key_path: str | None = None
    """Private key (0600), relative to the workspace."""
    chain_path: str | None = None
    """Chain PEM (leaf + intermediates), relative to the workspace."""
    p12_path: str | None = None
    """PKCS#12 bundle, relative to the workspace."""
    status: str = "active"
    """``active``, ``superseded`` or ``revoked``."""
    issued_at: datetime | None = None
    """When the workspace recorded it (set by ``add_certificate``)."""
    revoked_at: datetime | None = None
    """When it was revoked or superseded."""
    reason: str | None = None
    """Why it was revoked or superseded."""

    @classmethod
    def from_row(cls, row: Any) -> CertificateRecord:
        return cls(
            serial=row["serial"],
            service=row["service"],
            kind=row["kind"],
            not_before=parse_time(row["not_before"]),  # type: ignore[arg-type]
            not_after=parse_time(row["not_after"]),  # type: ignore[arg-type]
            sha256=row["sha256"],
            x5t_s256=row["x5t_s256"],
            step_key=row["step_key"],
            spiffe_id=row["spiffe_id"],
            cert_path=row["cert_path"],
            key_path=row["key_path"],
            chain_path=row["chain_path"],
            p12_path=row["p12_path"],
            status=row["status"],
            issued_at=parse_time(row["issued_at"]),
            revoked_at=parse_time(row["revoked_at"]),
            reason=row["reason"],
        )


@dataclass(frozen=True)
class Verdict:
    """A recorded cut-over verdict with its probe evidence (old key by fingerprint only)."""

    id: int
    """Database id (increasing)."""
    step_key: str
    """The step the verdict is about."""
    verdict: states.Verdict
    """PASS, FAIL, INCONCLUSIVE or ERROR (stored as the member's text)."""
    started_at: datetime
    """When the verifier started probing (UTC)."""
    finished_at: datetime
    """When it finished (UTC)."""
    old_key_fingerprint: str
    """First hex digits of SHA-256 of the old key; never the key."""
    evidence_json: str
    """Canonical JSON of the probe evidence."""
    recorded_at: datetime
    """When the workspace stored it (UTC)."""

    @property
    def evidence(self) -> Any:
        """The evidence as a fresh JSON object."""
        return json.loads(self.evidence_json)

    @classmethod
    def from_row(cls, row: Any) -> Verdict:
        return cls(
            id=row["id"],
            step_key=row["step_key"],
            verdict=read_member(
                states.Verdict,
                row["verdict"],
                f"verdict {row['id']} of step {row['step_key']}",
                "verdict",
            ),
            started_at=parse_time(row["started_at"]),  # type: ignore[arg-type]
            finished_at=parse_time(row["finished_at"]),  # type: ignore[arg-type]
            old_key_fingerprint=row["old_key_fingerprint"],
            evidence_json=row["evidence"],
            recorded_at=parse_time(row["recorded_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class GatewayChange:
    """A recorded change of an API gateway's authentication mode."""

    id: int
    """Database id (increasing)."""
    api: str
    """The API whose gateway changed."""
    from_mode: GatewayMode
    """Mode before."""
    to_mode: GatewayMode
    """Mode after."""
    config_sha256: str
    """SHA-256 hex of the config applied."""
    step_key: str | None
    """The step that caused it, if any."""
    changed_at: datetime
    """When it was recorded (UTC)."""

    @classmethod
    def from_row(cls, row: Any) -> GatewayChange:
        change = f"gateway change {row['id']} of API {row['api']}"
        return cls(
            id=row["id"],
            api=row["api"],
            from_mode=read_member(GatewayMode, row["from_mode"], change, "mode"),
            to_mode=read_member(GatewayMode, row["to_mode"], change, "mode"),
            config_sha256=row["config_sha256"],
            step_key=row["step_key"],
            changed_at=parse_time(row["changed_at"]),  # type: ignore[arg-type]
        )
