"""`workbench init`: workspace, CA and plan snapshot, converging when re-run after a crash."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import PKIError, WorkspaceError
from workbench.inventory.model import DEFAULT_TRUST_DOMAIN
from workbench.migration.campaign import CA_DIR, ISSUER_FILE, SERVER_CA_DIR
from workbench.workspace import Workspace
from workbench.workspace.paths import ensure_private_dir


@dataclass(frozen=True)
class InitResult:
    """What `init` did."""

    directory: Path
    """The workspace directory."""
    created_workspace: bool
    """False when the workspace already existed (re-run)."""
    created_ca: bool
    """False when the CA already existed."""
    trust_domain: str
    """SPIFFE trust domain of the client identities."""
    steps: int
    """Number of steps in the plan snapshot."""
    waves: int
    """Number of waves in the plan snapshot."""
    ca_algorithm: str
    """Key algorithm of the CA."""
    issuer: str = "local"
    """``local`` (the workspace's CA) or ``vault`` (a Vault/OpenBao PKI mount)."""
    issuer_detail: str = ""
    """One sentence: where client and gateway certificates come from."""


def init_workspace(
    inventory_path: Path | str,
    directory: Path | str,
    *,
    passphrase: str | None,
    trust_domain: str | None = None,
    algorithm: str = "ec-p256",
    policy_path: Path | str | None = None,
    strategy: str = "risk-first",
    wave_size: int = 5,
    kdf_rounds: int | None = None,
    now: datetime | None = None,
    issuer: str | None = None,
    vault: Any = None,
    env: Mapping[str, str] | None = None,
) -> InitResult:
    """Create (or complete) a workspace for ``inventory_path``.

    Order matters for crash safety: the inventory is validated and the plan computed before
    anything is written; the CA is built in a temporary directory and renamed into place
    (a directory rename is atomic), so a crash leaves either no CA or a whole one; the
    ``ca.create`` audit record is written after the rename and re-written on a re-run that
    finds a CA without one.

    ``issuer="vault"`` with ``vault`` (a ``workbench.pki.vault.VaultTarget``) signs through a
    Vault/OpenBao PKI mount instead (VAULT_* from ``env``, default the process environment):
    the CA directory then holds the mount's chain and no CA key; the passphrase is needed
    only for the local CA of the gateway's TLS certificate when no server role is given.
    ``issuer=None`` keeps what the workspace has (the local CA for a new one).
    """
    from workbench.inventory import load_inventory
    from workbench.plan import make_plan
    from workbench.policy import load_policy

    now = now or datetime.now(UTC)
    inventory_path = Path(inventory_path).resolve()
    directory = Path(directory)
    inventory = load_inventory(inventory_path)
    policy = load_policy(policy_path)
    plan = make_plan(
        inventory, policy=policy, strategy=strategy, wave_size=wave_size, today=now.date()
    )
    domain = trust_domain or inventory.trust_domain or DEFAULT_TRUST_DOMAIN

    created_ws = False
    existed_before = directory.exists()
    try:
        ws = Workspace.open(directory)
    except WorkspaceError:
        ws = Workspace.create(
            directory, inventory_path=inventory_path, trust_domain=domain, now=now
        )
        created_ws = True
    with ws:
        info = ws.info()
        if Path(info.inventory_path) != inventory_path:
            raise WorkspaceError(
                f"{directory} was initialised for {info.inventory_path}, not {inventory_path}: "
                "use another --workspace"
            )
        domain = info.trust_domain
        ca_dir = directory / CA_DIR
        existing = _existing_issuer(ca_dir)
        kind = issuer or existing or "local"
        if kind not in ("local", "vault"):
            raise PKIError(f"unknown issuer {kind!r}: use local or vault")
        if existing and existing != kind:
            raise WorkspaceError(
                f"{directory} already issues through its {existing} CA, not {kind}: use another "
                "--workspace"
            )
        try:
            if kind == "vault":
                created_ca, detail = _init_vault(
                    ws, ca_dir, domain, vault, passphrase, algorithm, kdf_rounds, env, now
                )
            else:
                created_ca, detail = _init_local(
                    ws, ca_dir, domain, passphrase, algorithm, kdf_rounds, now
                )
        except BaseException:
            if created_ws and not existed_before:
                ws.close()
                shutil.rmtree(directory, ignore_errors=True)  # nothing half-made is left
            raise
        with ws.transaction():
            ws.set_plan(plan.to_dict(), now=now)
        return InitResult(
            directory=directory,
            created_workspace=created_ws,
            created_ca=created_ca,
            trust_domain=domain,
            steps=sum(len(w.steps) for w in plan.waves),
            waves=len(plan.waves),
            ca_algorithm=algorithm,
            issuer=kind,
            issuer_detail=detail,
        )


def _existing_issuer(ca_dir: Path) -> str | None:
    if (ca_dir / ISSUER_FILE).exists():
        return "vault"
    if (ca_dir / "ca.json").exists():
        return "local"
    return None


def _make_ca_dir(directory: Path, ca_dir: Path, build) -> None:  # noqa: ANN001
    """Build the CA directory in a temporary one and rename it into place (atomic)."""
    ensure_private_dir(directory)
    tmp = Path(tempfile.mkdtemp(prefix=".ca-", dir=directory))
    try:
        build(tmp)
        tmp.rename(ca_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _need_passphrase(passphrase: str | None, why: str) -> str:
    if not passphrase:
        raise PKIError(f"the CA passphrase is needed {why}: set WORKBENCH_CA_PASSPHRASE")
    return passphrase


def _init_local(ws, ca_dir, domain, passphrase, algorithm, kdf_rounds, now):  # noqa: ANN001
    from workbench.pki import LocalCA

    created_ca = False
    if not (ca_dir / "ca.json").exists():
        secret = _need_passphrase(passphrase, "to encrypt the CA keys")
        extra = {"kdf_rounds": kdf_rounds} if kdf_rounds else {}
        _make_ca_dir(
            ws.directory,
            ca_dir,
            lambda tmp: LocalCA.create(
                tmp, trust_domain=domain, passphrase=secret, algorithm=algorithm, now=now, **extra
            ),
        )
        created_ca = True
    ca = LocalCA.load(ca_dir, _need_passphrase(passphrase, "to open the CA"))
    with ws.transaction():
        if created_ca or not any(r.action == "ca.create" for r in ws.audit_records()):
            ws.audit(
                "ca.create",
                domain,
                {
                    "algorithm": algorithm,
                    "root_sha256": _sha256_pem(ca.root_pem),
                    "chain": f"{CA_DIR}/chain.pem",
                },
                now=now,
            )
    return created_ca, f"local CA ({algorithm}) in {ca_dir}"


def _init_vault(ws, ca_dir, domain, target, passphrase, algorithm, kdf_rounds, env, now):  # noqa: ANN001
    """Connect to the Vault mount; a local CA for the gateway's TLS certificate when no
    server role is given. Audited as ``issuer.connect`` (with Vault's request id)."""
    from workbench.pki import LocalCA
    from workbench.pki.vault import VaultConfig, connect_vault

    created_ca = False
    connection = None
    if not (ca_dir / ISSUER_FILE).exists():
        if target is None:
            raise PKIError("--issuer vault needs --vault-mount and --vault-role")
        checked = target.checked()
        secret = None
        if not checked.server_role:
            secret = _need_passphrase(
                passphrase, "for the local CA of the gateway's TLS certificate (no server role)"
            )

        def build(tmp: Path) -> None:
            nonlocal connection
            connection = connect_vault(tmp, checked, trust_domain=domain, env=env)
            if secret is not None:
                extra = {"kdf_rounds": kdf_rounds} if kdf_rounds else {}
                LocalCA.create(
                    tmp / SERVER_CA_DIR,
                    trust_domain=domain,
                    passphrase=secret,
                    algorithm=algorithm,
                    now=now,
                    **extra,
                )

        _make_ca_dir(ws.directory, ca_dir, build)
        created_ca = True
    config = VaultConfig.load(ca_dir)
    if target is not None:
        asked = target.checked()
        recorded = (config.mount, config.role, config.server_role, config.root_mount)
        if (asked.mount, asked.role, asked.server_role, asked.root_mount) != recorded:
            raise WorkspaceError(
                f"{ws.directory} issues through Vault mount {config.mount} role {config.role}: "
                "use another --workspace for other settings"
            )
    with ws.transaction():
        if created_ca or not any(r.action == "issuer.connect" for r in ws.audit_records()):
            ws.audit(
                "issuer.connect",
                domain,
                {
                    "issuer": "vault",
                    "addr": config.addr,
                    "namespace": config.namespace,
                    "mount": config.mount,
                    "role": config.role,
                    "server_role": config.server_role,
                    "server_ca": config.server_ca,
                    "root_sha256": config.root_sha256,
                    "chain": f"{CA_DIR}/chain.pem",
                    "request_id": connection.request_id if connection else None,
                },
                now=now,
            )
    server = (
        f"Vault role {config.server_role}"
        if config.server_role
        else f"a local CA in {ca_dir / SERVER_CA_DIR} (no --vault-server-role given)"
    )
    detail = (
        f"Vault {config.addr} mount {config.mount}, role {config.role} (no CA key here); "
        f"gateway TLS certificate from {server}"
    )
    return created_ca, detail


def _sha256_pem(pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex()
