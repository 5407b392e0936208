"""The vocabularies every layer shares: a migration step's state, a gateway's mode, a verdict.

StrEnums, so a member *is* its text: the database, the audit log, JSON documents and command
lines stay byte-identical, and text read back from them compares equal to the members. This
module sits at the bottom of the core (it imports nothing of the workbench), so the
workspace, the gateways, the campaign, the reports and every front end can share it.
tests/test_states.py fails when a state, mode or verdict name comes back as a string literal.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CERTIFICATE_ONLY_MODES",
    "KEY_RETIRED_STATES",
    "VERDICTS_WORST_FIRST",
    "GatewayMode",
    "StepState",
    "Verdict",
]


class StepState(StrEnum):
    """Where one migration step (one old key) stands. The forward path is planned -> issued
    -> dual -> cut_over -> verified; the workspace's state machine says what may follow what."""

    PLANNED = "planned"
    """In the plan; nothing done yet."""
    ISSUED = "issued"
    """Client certificates issued for every consumer."""
    DUAL = "dual"
    """The gateway accepts the certificate or the old key (the overlap)."""
    CUT_OVER = "cut_over"
    """The old key is refused; not yet proven by a PASS."""
    VERIFIED = "verified"
    """A PASS newer than the cut-over and the latest gateway change proves the cut-over."""
    FAILED = "failed"
    """Something went wrong before the cut-over; back to planned once fixed."""
    ROLLED_BACK = "rolled_back"
    """The old key works again (gateway back in dual) after a failed proof or a regression."""


class GatewayMode(StrEnum):
    """What an API's gateway asks a client for."""

    KEY = "key"
    """The static key only (no certificate asked for)."""
    DUAL = "dual"
    """A client certificate or the old key: the overlap."""
    MTLS = "mtls"
    """Client certificates only: the old key is refused."""
    MTLS_TOKEN = "mtls+token"  # noqa: S105  (a mode name, not a secret)
    """A client certificate plus an RFC 8705 certificate-bound access token."""


KEY_RETIRED_STATES = (StepState.CUT_OVER, StepState.VERIFIED)
"""Step states in which the gateway refuses the step's old key."""

CERTIFICATE_ONLY_MODES = (GatewayMode.MTLS, GatewayMode.MTLS_TOKEN)
"""Gateway modes that refuse static keys (sender-constrained access)."""


class Verdict(StrEnum):
    """What one verification run (or drill) concluded. Only PASS proves anything: it is the
    one verdict that may exit 0, mark a step verified or let an old key be revoked."""

    PASS = "PASS"  # noqa: S105  (a verdict, not a secret)
    """Every required probe ran and answered as it must (the old key clearly refused)."""
    FAIL = "FAIL"
    """A decisive wrong answer: a credential that must be refused was accepted, or the new
    certificate was clearly refused."""
    INCONCLUSIVE = "INCONCLUSIVE"
    """The server answered, but the answer proves nothing (5xx, 429, a login page ...)."""
    ERROR = "ERROR"
    """No trustworthy exchange (unreachable, untrusted server) or a malformed run."""


VERDICTS_WORST_FIRST = (Verdict.FAIL, Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.PASS)
"""Verdicts from worst to best: a wave, a report or a drill takes the worst of its parts."""
