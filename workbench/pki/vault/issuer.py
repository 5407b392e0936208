"""VaultIssuer: the Issuer protocol through a Vault (or OpenBao) PKI engine.

Keys are generated here and never leave: Vault signs CSRs (``POST /v1/<mount>/sign/<role>``)
with the identity taken from the request, never from the CSR. What comes back is checked
before it is used: the CSR's key, the SPIFFE ID asked for and nothing else, the EKU of the
profile, the lifetime asked for (Vault silently caps a TTL at the role's max_ttl), a
signature by the recorded issuing CA and the same chain as the workspace's ``chain.pem``. A
certificate that fails a check is revoked again (best effort) and the call fails.

Each Vault request that changes state leaves a receipt (path, serial, Vault request id);
the migration layer writes them into the audit chain (``drain_receipts``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from workbench.errors import PKIError
from workbench.pki.certs import (
    IssuedCertificate,
    IssueRequest,
)
from workbench.pki.crl import CRLSet, Revoked, parse_reason
from workbench.pki.issuer import LeafShortcuts, issue_via_csr
from workbench.pki.keys import DEFAULT_ALGORITHM, check_public_key
from workbench.pki.vault.client import VaultClient
from workbench.pki.vault.config import SERVER_CA_DIR, VaultConfig
from workbench.pki.vault.response import (
    check_signed,
    colon_serial,
    issued_from_certificate,
    pem_certs,
)

__all__ = ["VaultCRLSet", "VaultIssuer"]


@dataclasses.dataclass(frozen=True)
class VaultCRLSet(CRLSet):
    """CRLSet whose combined file lists each CRL once (the root may be the issuing CA)."""

    @property
    def combined_pem(self) -> bytes:
        if self.root.public_bytes(Encoding.DER) == self.intermediate.public_bytes(Encoding.DER):
            return self.intermediate_pem
        return self.intermediate_pem + self.root_pem


class VaultIssuer(LeafShortcuts):
    """Implements Issuer (and LocalCA's issue_client / issue_server) through Vault PKI."""

    remote = True
    """Signing is a network call: callers sign many certificates concurrently."""

    def __init__(
        self,
        directory: Path,
        config: VaultConfig,
        client: VaultClient,
        *,
        server_ca: Callable[[], Any] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.config = config
        self.client = client
        self._server_ca_loader = server_ca
        self._server_ca: Any = None
        chain_bytes = (self.directory / "chain.pem").read_bytes()
        if hashlib.sha256(chain_bytes).hexdigest() != config.chain_sha256:
            raise PKIError(
                f"{self.directory / 'chain.pem'} does not match issuer.json: it was changed; "
                "restore it or make a new workspace"
            )
        self._chain = x509.load_pem_x509_certificates(chain_bytes)
        self._chain_pem = chain_bytes
        self._receipts: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        c = self.config
        return f"VaultIssuer(addr={c.addr!r}, mount={c.mount!r}, role={c.role!r})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("VaultIssuer holds a Vault token and cannot be pickled (req. 12)")

    def close(self) -> None:
        self.client.close()

    # -- Issuer protocol ----------------------------------------------------------------------

    @property
    def trust_domain(self) -> str:
        return self.config.trust_domain

    @property
    def chain_pem(self) -> bytes:
        """The mount's issuing CA chain (issuing CA first, root last), PEM."""
        return self._chain_pem

    @property
    def root_pem(self) -> bytes:
        return self._chain[-1].public_bytes(Encoding.PEM)

    @property
    def server_chain_pem(self) -> bytes:
        """The chain a gateway's TLS certificate ends with (Vault's, or the local server CA's)."""
        if self.config.server_role:
            return self._chain_pem
        return (self.directory / SERVER_CA_DIR / "chain.pem").read_bytes()

    def sign_csr(
        self, csr: x509.CertificateSigningRequest, request: IssueRequest
    ) -> IssuedCertificate:
        """Have Vault certify the CSR's key with the identity in ``request``."""
        if not csr.is_signature_valid:
            raise PKIError("the CSR signature is invalid: regenerate the CSR with its own key")
        check_public_key(csr.public_key())
        role = self._role_for(request.kind)
        sid = request.spiffe_id
        if sid is not None and not sid.startswith(f"spiffe://{self.trust_domain}/"):
            raise PKIError(
                f"SPIFFE ID {sid!r} is outside this workspace's trust domain {self.trust_domain!r}"
            )
        body: dict[str, Any] = {
            "csr": csr.public_bytes(Encoding.PEM).decode(),
            "common_name": request.common_name,
            "ttl": f"{int(request.lifetime.total_seconds())}s",
            "format": "pem",
            "exclude_cn_from_sans": True,
        }
        if sid:
            body["uri_sans"] = sid
        if request.dns_names:
            body["alt_names"] = ",".join(request.dns_names)
        if request.ip_addresses:
            body["ip_sans"] = ",".join(request.ip_addresses)
        path = f"{self.config.mount}/sign/{role}"
        started = datetime.now(UTC)
        reply = self.client.call("POST", path, body)
        data = reply.data if isinstance(reply.data, dict) else {}
        [cert, *_] = pem_certs(data.get("certificate") or "", f"{path} certificate")
        chain = pem_certs(data.get("ca_chain") or data.get("issuing_ca") or "", f"{path} ca_chain")
        issued = issued_from_certificate(cert, request.kind)
        where = f"Vault POST /v1/{path}"
        try:
            check_signed(where, self._chain_pem, cert, chain, csr, request, started, reply.warnings)
        except PKIError:
            self._revoke_quietly(cert.serial_number)
            raise
        self._receipt(
            "issuer.sign", format(issued.serial, "x"), path, reply.request_id, kind=request.kind
        )
        return issued

    def revoke(
        self,
        serial: int,
        reason: x509.ReasonFlags | str | None = None,
        when: datetime | None = None,
    ) -> Revoked:
        """Revoke in Vault (idempotent there); Vault's CRLs carry no reason codes."""
        flag = parse_reason(reason)
        path = f"{self.config.mount}/revoke"
        reply = self.client.call("POST", path, {"serial_number": colon_serial(serial)})
        data = reply.data if isinstance(reply.data, dict) else {}
        stamp = data.get("revocation_time")
        revoked_at = (
            datetime.fromtimestamp(int(stamp), UTC) if stamp else (when or datetime.now(UTC))
        )
        self._receipt(
            "issuer.revoke", format(serial, "x"), path, reply.request_id, reason=flag.value
        )
        return Revoked(serial, revoked_at, flag)

    def crls(
        self,
        revoked: Sequence[Revoked],
        crl_number: int,
        now: datetime | None = None,
        **_: Any,
    ) -> CRLSet:
        """Vault's own CRLs (its CRL number, its nextUpdate), after checking that every serial
        the workspace revoked is on them (one forced rebuild if not)."""
        issuing = self._fetch_crl(self.config.mount, self._chain[0])
        wanted = {r.serial for r in revoked}
        missing = wanted - {e.serial_number for e in issuing}
        if missing:
            self.client.call("GET", f"{self.config.mount}/crl/rotate")
            issuing = self._fetch_crl(self.config.mount, self._chain[0])
            missing = wanted - {e.serial_number for e in issuing}
        if missing:
            first = format(min(missing), "x")
            raise PKIError(
                f"Vault GET /v1/{self.config.mount}/crl/pem lacks {len(missing)} serial(s) the "
                f"workspace revoked (e.g. {first}): revoke them again (`workbench revoke "
                f"{first}`) and re-run"
            )
        root = issuing
        if len(self._chain) > 1:
            if not self.config.root_mount:
                raise PKIError(
                    "the Vault chain has an intermediate but no --vault-root-mount was given at "
                    "init: CRL checks need the root's CRL too"
                )
            root = self._fetch_crl(self.config.root_mount, self._chain[-1])
        number_ext = issuing.extensions.get_extension_for_class(x509.CRLNumber).value
        return VaultCRLSet(issuing, root, number_ext.crl_number)

    # -- what LocalCA also offers ---------------------------------------------------------

    def issue(
        self, request: IssueRequest, *, key_algorithm: str = DEFAULT_ALGORITHM
    ) -> IssuedCertificate:
        """Generate the key here, send only its CSR; the result carries the key."""
        return issue_via_csr(self, request, key_algorithm=key_algorithm)

    def issue_server(self, common_name: str = "localhost", **options: Any) -> IssuedCertificate:
        """The gateway's TLS certificate (options as ``LeafShortcuts.issue_server``): Vault's
        server role, else the local server CA."""
        if not self.config.server_role:
            return self._local_server_ca().issue_server(common_name, **options)
        return super().issue_server(common_name, **options)

    def drain_receipts(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``(action, serial, details)`` of every Vault change since the last call."""
        with self._lock:
            out, self._receipts = self._receipts, []
        return out

    # -- internals ----------------------------------------------------------------------------

    def _role_for(self, kind: str) -> str:
        if kind == "client":
            return self.config.role
        if self.config.server_role:
            return self.config.server_role
        raise PKIError("no --vault-server-role: server certificates come from the local CA")

    def _local_server_ca(self) -> Any:
        if self._server_ca is None:
            if self._server_ca_loader is None:
                raise PKIError("this workspace has no local server CA: re-run init")
            self._server_ca = self._server_ca_loader()
        return self._server_ca

    def _receipt(self, action: str, serial: str, path: str, request_id: str | None, **kw) -> None:
        """``serial`` as the workspace spells it: lower-case hex, no leading zeros."""
        details = {"issuer": "vault", "path": f"/v1/{path}", "request_id": request_id, **kw}
        with self._lock:
            self._receipts.append((action, serial, details))

    def _revoke_quietly(self, serial: int) -> None:
        # The refusal is what the caller must see; a stray certificate expires on its own.
        with contextlib.suppress(PKIError):
            self.revoke(serial, "cessationOfOperation")

    def _fetch_crl(self, mount: str, ca: x509.Certificate) -> x509.CertificateRevocationList:
        path = f"{mount}/crl/pem"
        reply = self.client.call("GET", path, raw=True)
        try:
            crl = x509.load_pem_x509_crl(str(reply.data).encode())
        except ValueError:
            raise PKIError(
                f"Vault GET /v1/{path} returned no PEM CRL: is it a PKI mount?"
            ) from None
        if crl.issuer != ca.subject or not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
            raise PKIError(
                f"Vault GET /v1/{path}: the CRL is not signed by {ca.subject.rfc4514_string()}: "
                "check the mount (and --vault-root-mount)"
            )
        return crl
