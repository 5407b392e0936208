"""The lab of one workspace: its state directory, ``up`` with the workspace's CA, ``down``.

The lab's state (modes, access log, PID files, generated keys) belongs to the workspace that
started it: a second workspace on the same inventory gets a directory of its own, so it
starts in ``key`` mode with an empty access log. The directory is
``<inventory dir>/state/lab-<id>``, ``<id>`` derived from the workspace's path and creation
time (a workspace re-created at the same path is a new one). It is kept outside the
workspace because the lab's gateway holds the keys' values (an nginx config embeds them), and
no old key value may be written into a workspace (req. 11).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["lab_env", "lab_state_dir", "lab_up"]


def lab_state_dir(campaign: Any) -> Path:
    """Where the lab of ``campaign``'s workspace keeps its state."""
    info = campaign.workspace.info()
    ident = f"{campaign.directory.resolve()}|{info.created_at.isoformat()}"
    lab_id = hashlib.sha256(ident.encode()).hexdigest()[:12]
    source = campaign.inventory.source
    base = Path(source).resolve().parent if source else campaign.directory.resolve().parent
    return base / "state" / f"lab-{lab_id}"


def lab_env(campaign: Any, *, gateway: str = "python", port: int | None = None):
    """The workspace's lab (not started): its inventory, trust domain and state directory."""
    from workbench.lab.env import SampleEnv

    return SampleEnv(
        campaign.inventory,
        lab_state_dir(campaign),
        gateway=gateway,
        port=port,
        trust_domain=campaign.trust_domain,
    )


def lab_up(campaign: Any, *, gateway: str = "python", port: int | None = None):
    """Start backend + gateways with the workspace's server certificate, CA and CRLs."""
    from workbench.migration.campaign import CRL_DIR
    from workbench.migration.issuance import issue_gateway_certificate
    from workbench.migration.revocation import publish_crls
    from workbench.migration.verification import prepare_revocation_canaries

    ws = campaign.workspace
    server = issue_gateway_certificate(campaign)
    crl = campaign.directory / CRL_DIR / "crl.pem"
    # Revoked canaries must be in the CRL the gateway loads at start: the verifier's
    # "revoked certificate is refused" probe depends on it.
    if prepare_revocation_canaries(campaign) or not crl.exists():
        publish_crls(campaign)
    env = lab_env(campaign, gateway=gateway, port=port)
    previous = env.gateways()
    modes = None if previous else {a.id: "key" for a in campaign.inventory.apis}
    status = env.up(
        ws.directory / (server.chain_path or server.cert_path),
        ws.directory / server.key_path,
        campaign.ca_dir / "chain.pem",  # client CA bundle: the issuer's chain (local or Vault)
        crl=crl,
        modes=modes,
        token_server=True,  # ready for `mtls+token`: certificate-bound access tokens
        token_server_ca=campaign.server_ca_file,  # the token server serves the gateway's cert
    )
    with ws.transaction():
        ws.audit(
            "gateway.start",
            gateway,
            {
                "ports": [p for p, _ in status.gateways],
                "server_certificate": server.serial,
                "modes": dict(status.modes),
                "state_dir": str(env.state_dir),
            },
        )
    return status
