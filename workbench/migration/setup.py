"""`workbench init`: workspace, CA and plan snapshot, converging when re-run after a crash."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbench.errors import WorkspaceError
from workbench.migration.campaign import CA_DIR
from workbench.workspace import Workspace
from workbench.workspace.paths import ensure_private_dir

DEFAULT_TRUST_DOMAIN = "workbench.local"


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


def init_workspace(
    inventory_path: Path | str,
    directory: Path | str,
    *,
    passphrase: str,
    trust_domain: str | None = None,
    algorithm: str = "ec-p256",
    policy_path: Path | str | None = None,
    strategy: str = "risk-first",
    wave_size: int = 5,
    kdf_rounds: int | None = None,
    now: datetime | None = None,
) -> InitResult:
    """Create (or complete) a workspace for ``inventory_path``.

    Order matters for crash safety: the inventory is validated and the plan computed before
    anything is written; the CA is built in a temporary directory and renamed into place
    (a directory rename is atomic), so a crash leaves either no CA or a whole one; the
    ``ca.create`` audit record is written after the rename and re-written on a re-run that
    finds a CA without one.
    """
    from workbench.inventory import load_inventory
    from workbench.pki import LocalCA
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
        created_ca = False
        if not (ca_dir / "ca.json").exists():
            ensure_private_dir(directory)
            tmp = Path(tempfile.mkdtemp(prefix=".ca-", dir=directory))
            try:
                extra = {"kdf_rounds": kdf_rounds} if kdf_rounds else {}
                LocalCA.create(
                    tmp,
                    trust_domain=domain,
                    passphrase=passphrase,
                    algorithm=algorithm,
                    now=now,
                    **extra,
                )
                tmp.rename(ca_dir)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            created_ca = True
        ca = LocalCA.load(ca_dir, passphrase)
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
            ws.set_plan(plan.to_dict(), now=now)
        return InitResult(
            directory=directory,
            created_workspace=created_ws,
            created_ca=created_ca,
            trust_domain=domain,
            steps=sum(len(w.steps) for w in plan.waves),
            waves=len(plan.waves),
            ca_algorithm=algorithm,
        )


def _sha256_pem(pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex()
