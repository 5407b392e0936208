"""Killed between "certificate files written" and "state saved", a re-run converges (req 26)."""

import os
import signal
import subprocess
import sys
import textwrap

from workbench.workspace import Workspace, find_orphans

CHILD = textwrap.dedent(
    """
    import os, sys
    from workbench.migration import open_campaign, issue_step
    import workbench.migration.issuance as iss

    real = iss.ensure_certificates
    def dying(*a, **kw):
        def after(records):  # every file of the step written and flushed, no row yet
            print(len(records), flush=True)
            os.kill(os.getpid(), 9)
        kw["after_files"] = after
        return real(*a, **kw)
    iss.ensure_certificates = dying
    with open_campaign(sys.argv[1]) as c:
        issue_step(c, "cards-key")
    """
)


def test_issue_killed_after_files_before_state_converges(workspace):
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(workspace)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    written = int(proc.stdout)
    step_dir = workspace / "certs" / "step" / "cards-key"
    assert any(step_dir.glob("payments-svc.*.crt")), "the child wrote files before dying"
    with Workspace.open(workspace) as ws:
        assert ws.active_certificates(step="cards-key") == []
        assert len(find_orphans(ws)) == 3 * written  # crt, key, chain per consumer

    from workbench.migration import issue_step, open_campaign

    with open_campaign(workspace) as campaign:
        first = issue_step(campaign, "cards-key")
        again = issue_step(campaign, "cards-key")
        ws = campaign.workspace
        active = ws.active_certificates(step="cards-key")
        consumers = campaign.inventory.consumers_of("cards-key")
        assert find_orphans(ws) == []
    assert len(first.issued) == written == len(consumers) and again.issued == ()
    assert sorted(c.service for c in active) == sorted(consumers)  # exactly one per service
    for cert in active:
        files = sorted(p.name for p in step_dir.glob(f"{cert.service}.*"))
        assert files == sorted(
            f"{cert.service}.{cert.serial}.{ext}" for ext in ("chain.pem", "crt", "key")
        )
