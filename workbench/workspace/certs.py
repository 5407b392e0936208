"""Certificate index, CRL numbers and gateway changes (mixed into ``Workspace``).

The database allows at most one active certificate per (step, service, kind); adding a
certificate to an occupied slot either supersedes the old one in the same transaction or
is skipped, as the caller chooses (req. 26).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from workbench.errors import WorkspaceError
from workbench.states import GatewayMode
from workbench.workspace.audit import iso
from workbench.workspace.records import CERT_KINDS, CertificateRecord, GatewayChange, parse_member

if TYPE_CHECKING:
    from workbench.workspace.store import Workspace

__all__ = ["CertificatesMixin", "normalise_serial"]

_SERIAL = re.compile(r"[0-9a-f]{1,40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
IfActive = Literal["supersede", "skip", "error"]


def normalise_serial(serial: int | str) -> str:
    """Lower-case hex without separators or leading zeros (``int`` or ``AA:0F`` accepted)."""
    if isinstance(serial, int):
        if serial <= 0:
            raise WorkspaceError("certificate serial must be positive")
        return format(serial, "x")
    text = serial.replace(":", "").strip().lower().lstrip("0") or "0"
    if not _SERIAL.fullmatch(text) or text == "0":
        raise WorkspaceError(f"certificate serial {serial!r} is not 1-20 octets of hex")
    return text


class CertificatesMixin:
    """Certificates, CRL numbers, gateway changes. Methods open a transaction if needed."""

    def add_certificate(
        self: Workspace,
        record: CertificateRecord,
        *,
        if_active: IfActive = "supersede",
        now: datetime | None = None,
    ) -> CertificateRecord:
        """Record an issued certificate as active; return the slot's active certificate.

        ``if_active`` says what happens when the (step, service, kind) slot already has an
        active certificate: ``supersede`` it (audited as ``cert.renew``), ``skip`` (return the
        existing one, add nothing) or ``error``. Adding a serial that is already recorded
        with the same SHA-256 is a no-op that returns the stored record.
        """
        serial = normalise_serial(record.serial)
        if record.kind not in CERT_KINDS:
            raise WorkspaceError(f"certificate kind {record.kind!r}: use one of {CERT_KINDS}")
        if record.status != "active":
            raise WorkspaceError("add_certificate records new certificates: status must be active")
        if not _SHA256.fullmatch(record.sha256):
            raise WorkspaceError("certificate sha256 must be 64 lower-case hex")
        at = self.now(now)
        with self.transaction():
            same = self._certificate_row(serial)
            if same is not None:
                if same.sha256 == record.sha256:
                    return same
                raise WorkspaceError(f"serial {serial} is already recorded for another certificate")
            current = self.active_in_slot(record.step_key, record.service, record.kind)
            action = "cert.issue"
            if current:
                old = current[0]
                if if_active == "skip":
                    return old
                if if_active == "error":
                    raise WorkspaceError(
                        f"{record.service} already has active {record.kind} certificate "
                        f"{old.serial}: renew it instead"
                    )
                self._set_status(old.serial, "superseded", f"superseded by {serial}", at, now)
                action = "cert.renew"
            new = replace(record, serial=serial, issued_at=at, revoked_at=None, reason=None)
            self.connection.execute(
                "INSERT INTO certificates (serial, step_key, service, kind, spiffe_id, not_before,"
                " not_after, sha256, x5t_s256, cert_path, key_path, chain_path, p12_path, status,"
                " issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                (
                    serial,
                    new.step_key,
                    new.service,
                    new.kind,
                    new.spiffe_id,
                    iso(new.not_before),
                    iso(new.not_after),
                    new.sha256,
                    new.x5t_s256,
                    new.cert_path,
                    new.key_path,
                    new.chain_path,
                    new.p12_path,
                    iso(at),
                ),
            )
            self.audit(
                action,
                serial,
                {
                    "step": new.step_key,
                    "service": new.service,
                    "kind": new.kind,
                    "spiffe_id": new.spiffe_id,
                    "not_after": iso(new.not_after),
                    "sha256": new.sha256,
                    "x5t_s256": new.x5t_s256,
                    "replaces": current[0].serial if current else None,
                },
                now=now,
            )
            return self.certificate(serial)

    def _certificate_row(self: Workspace, serial: str) -> CertificateRecord | None:
        row = self.connection.execute(
            "SELECT * FROM certificates WHERE serial = ?", (serial,)
        ).fetchone()
        return None if row is None else CertificateRecord.from_row(row)

    def certificate(self: Workspace, serial: int | str) -> CertificateRecord:
        """One certificate by serial; WorkspaceError when unknown."""
        found = self._certificate_row(normalise_serial(serial))
        if found is None:
            raise WorkspaceError(f"no certificate with serial {serial} in this workspace")
        return found

    def certificates(
        self: Workspace,
        *,
        step: str | None = None,
        service: str | None = None,
        kind: str | None = None,
        status: str | None = None,
    ) -> list[CertificateRecord]:
        """Certificates in issue order, filtered by any of the given fields."""
        sql, args = "SELECT * FROM certificates WHERE 1 = 1", []
        for column, value in (
            ("step_key", step),
            ("service", service),
            ("kind", kind),
            ("status", status),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        rows = self.connection.execute(sql + " ORDER BY issued_at, rowid", args).fetchall()
        return [CertificateRecord.from_row(r) for r in rows]

    def active_certificates(
        self: Workspace,
        *,
        step: str | None = None,
        service: str | None = None,
        kind: str | None = None,
    ) -> list[CertificateRecord]:
        """Active certificates, filtered by step, service and kind."""
        return self.certificates(step=step, service=service, kind=kind, status="active")

    def active_in_slot(
        self: Workspace, step: str | None, service: str, kind: str
    ) -> list[CertificateRecord]:
        """The active certificate of one (step, service, kind) slot (0 or 1 items).

        Unlike ``active_certificates``, ``step=None`` means "attached to no step".
        """
        rows = self.connection.execute(
            "SELECT * FROM certificates WHERE coalesce(step_key, '') = ? AND service = ? "
            "AND kind = ? AND status = 'active'",
            (step or "", service, kind),
        ).fetchall()
        return [CertificateRecord.from_row(r) for r in rows]

    def known_serials(self: Workspace) -> set[str]:
        """Every serial the database knows, whatever its status."""
        return {r[0] for r in self.connection.execute("SELECT serial FROM certificates")}

    def _set_status(
        self: Workspace,
        serial: str,
        status: str,
        reason: str,
        at: datetime,
        now: datetime | None,
    ) -> None:
        self.connection.execute(
            "UPDATE certificates SET status = ?, revoked_at = ?, reason = ? WHERE serial = ?",
            (status, iso(at), reason, serial),
        )
        action = "cert.revoke" if status == "revoked" else "cert.supersede"
        self.audit(action, serial, {"reason": reason}, now=now)

    def supersede_certificate(
        self: Workspace, serial: int | str, reason: str, *, now: datetime | None = None
    ) -> CertificateRecord:
        """Mark an active certificate superseded (still valid until it expires or is revoked)."""
        with self.transaction():
            cert = self.certificate(serial)
            if cert.status != "active":
                return cert
            self._set_status(cert.serial, "superseded", reason, self.now(now), now)
            return self.certificate(cert.serial)

    def revoke_certificate(
        self: Workspace, serial: int | str, reason: str, *, now: datetime | None = None
    ) -> CertificateRecord:
        """Mark a certificate revoked; revoking twice is a no-op."""
        with self.transaction():
            cert = self.certificate(serial)
            if cert.status == "revoked":
                return cert
            self._set_status(cert.serial, "revoked", reason, self.now(now), now)
            return self.certificate(cert.serial)

    def revoked_certificates(self: Workspace) -> list[CertificateRecord]:
        """Revoked certificates (what a CRL must list)."""
        return self.certificates(status="revoked")

    def next_crl_number(self: Workspace) -> int:
        """Increment and return the CRL number (monotonic; reused only if rolled back)."""
        with self.transaction():
            self.connection.execute(
                "UPDATE counters SET value = value + 1 WHERE name = 'crl_number'"
            )
            row = self.connection.execute(
                "SELECT value FROM counters WHERE name = 'crl_number'"
            ).fetchone()
            return int(row[0])

    def record_gateway_change(
        self: Workspace,
        api: str,
        from_mode: GatewayMode | str,
        to_mode: GatewayMode | str,
        config_sha256: str,
        *,
        step_key: str | None = None,
        now: datetime | None = None,
    ) -> GatewayChange:
        """Record a gateway's switch of authentication mode (audited as ``gateway.change``)."""
        from_mode = parse_member(GatewayMode, from_mode, "gateway mode")
        to_mode = parse_member(GatewayMode, to_mode, "gateway mode")
        if not _SHA256.fullmatch(config_sha256):
            raise WorkspaceError("config_sha256 must be 64 lower-case hex")
        at = iso(self.now(now))
        with self.transaction():
            cur = self.connection.execute(
                "INSERT INTO gateway_changes (api, from_mode, to_mode, config_sha256, step_key,"
                " changed_at) VALUES (?, ?, ?, ?, ?, ?)",
                (api, from_mode, to_mode, config_sha256, step_key, at),
            )
            self.audit(
                "gateway.change",
                api,
                {
                    "from": from_mode,
                    "to": to_mode,
                    "config_sha256": config_sha256,
                    "step": step_key,
                },
                now=now,
            )
            if step_key is not None:
                self.gateway_changed(step_key, to_mode, now=now)  # req. 32
            row = self.connection.execute(
                "SELECT * FROM gateway_changes WHERE id = ?", (cur.lastrowid,)
            ).fetchone()
        return GatewayChange.from_row(row)

    def gateway_changes(self: Workspace, api: str | None = None) -> list[GatewayChange]:
        """Gateway changes, oldest first, optionally for one API."""
        if api is None:
            rows = self.connection.execute("SELECT * FROM gateway_changes ORDER BY id")
        else:
            rows = self.connection.execute(
                "SELECT * FROM gateway_changes WHERE api = ? ORDER BY id", (api,)
            )
        return [GatewayChange.from_row(r) for r in rows.fetchall()]
