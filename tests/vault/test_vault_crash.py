"""Killed after OpenBao signed and the files were written but before the state was saved, a
re-run converges to exactly one active certificate per consumer (req. 26), as with the
local CA; the certificates of the killed run stay known to OpenBao only (their keys are
gone with the orphan files)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from testkit import copy_inventory
from vault_support import CLIENT_ROLE, SERVER_ROLE

from workbench.cli import main
from workbench.workspace import Workspace, find_orphans

CHILD = textwrap.dedent(
    """
    import os, sys
    from workbench.migration import open_campaign, issue_step
    import workbench.migration.issuance as iss

    real = iss.ensure_certificates
    def dying(*a, **kw):
        def after(records):  # files written and flushed, no row yet
            print(len(records), flush=True)
            os.kill(os.getpid(), 9)
        kw["after_files"] = after
        return real(*a, **kw)
    iss.ensure_certificates = dying
    with open_campaign(sys.argv[1]) as c:
        issue_step(c, "pay-key-prod")
    """
)


def test_killed_between_signing_and_saving_converges(tmp_path, vault_env):
    ws = tmp_path / "ws"
    argv = ["init", str(copy_inventory(tmp_path)), "--workspace", str(ws), "--issuer", "vault"]
    argv += ["--vault-mount", "pki", "--vault-role", CLIENT_ROLE]
    assert main([*argv, "--vault-server-role", SERVER_ROLE]) == 0
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(ws)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    written = int(proc.stdout)
    with Workspace.open(ws) as opened:
        assert opened.active_certificates(step="pay-key-prod") == []
        assert len(find_orphans(opened)) == 3 * written

    from workbench.migration import issue_step, open_campaign

    with open_campaign(ws) as campaign:
        first = issue_step(campaign, "pay-key-prod")
        again = issue_step(campaign, "pay-key-prod")
        active = campaign.workspace.active_certificates(step="pay-key-prod")
        consumers = campaign.inventory.consumers_of("pay-key-prod")
        assert find_orphans(campaign.workspace) == []
    assert len(first.issued) == written == len(consumers) and again.issued == ()
    assert sorted(c.service for c in active) == sorted(consumers)
    assert main(["audit", "verify", "--workspace", str(ws)]) == 0
