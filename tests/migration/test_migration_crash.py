"""Killed between "certificate files written" and "state saved", a re-run converges (req 26)."""

import os
import signal
import subprocess
import sys
import textwrap

from workbench.workspace import Workspace

CHILD = textwrap.dedent(
    """
    import os, sys
    from workbench.migration import open_campaign, issue_step
    import workbench.workspace.certfiles as cf

    real = cf.ensure_certificate
    def dying(*a, **kw):
        kw["batch"] = None  # write files now so the kill lands between files and state
        def after(record):
            os.kill(os.getpid(), 9)
        kw["after_files"] = after
        return real(*a, **kw)
    import workbench.migration.issuance as iss
    iss.ensure_certificate = dying
    with open_campaign(sys.argv[1]) as c:
        issue_step(c, "cards-key")
    """
)


def test_issue_killed_after_files_before_state_converges(workspace):
    proc = subprocess.run([sys.executable, "-c", CHILD, str(workspace)], env=os.environ.copy())
    assert proc.returncode == -signal.SIGKILL
    slot = workspace / "certs" / "step" / "cards-key" / "payments-svc"
    assert any(slot.glob("*.crt")), "the child wrote files before dying"
    with Workspace.open(workspace) as ws:
        assert ws.active_certificates(step="cards-key") == []

    from workbench.migration import issue_step, open_campaign

    with open_campaign(workspace) as campaign:
        issue_step(campaign, "cards-key")
        issue_step(campaign, "cards-key")
        active = campaign.workspace.active_certificates(step="cards-key")
    assert len(active) == 1
    assert sorted(p.name for p in slot.glob("*.crt")) == [f"{active[0].serial}.crt"]
