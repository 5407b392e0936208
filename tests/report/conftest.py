"""Fixtures for tests/report: workspaces rehearsed for real on the lab, once per session."""

import pytest
from report_support import TEAM_INVENTORY, rehearsed


@pytest.fixture(scope="session")
def sample_ws(tmp_path_factory):
    """The sample company's first wave, rehearsed: PASSes, one mtls+token, one caught FAIL,
    then a canary revocation drill."""
    return rehearsed(tmp_path_factory.mktemp("sample"), None, drill=True)


@pytest.fixture(scope="session")
def team_ws(tmp_path_factory):
    """A second company (env refs, a staging API, a partner, an orphan key), rehearsed; no
    drill."""
    return rehearsed(tmp_path_factory.mktemp("team"), TEAM_INVENTORY)
