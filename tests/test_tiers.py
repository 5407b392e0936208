"""The fast tier (`make check`, `pytest -m "not integration"`) leaves out every test that
starts a process, a real server, the TUI or a notebook kernel; tests/conftest.py decides."""

import pytest
from tiers import (
    INTEGRATION_DIRS,
    INTEGRATION_FILES,
    INTEGRATION_TESTS,
    TESTS_ROOT,
    integration_reason,
)


@pytest.mark.parametrize(
    ("relpath", "function", "fixtures", "marks"),
    [
        ("tui/test_tui_actions.py", "test_x", (), set()),
        ("terminal/test_tui_terminal.py", "test_x", (), set()),
        ("vault/test_vault_issue.py", "test_x", (), set()),
        ("gateway/test_gateway_modes.py", "test_x", (), set()),
        ("drill/test_drill_units.py", "test_x", (), set()),
        ("test_notebooks.py", "test_x", (), set()),
        ("verify/test_verify_nginx.py", "test_x", (), set()),
        ("pki/test_pki_profiles.py", "test_serials_are_unique_over_10000_issuances", (), set()),
        ("inventory/test_new.py", "test_x", ("tmp_path", "lab"), set()),
        ("inventory/test_new.py", "test_x", ("openbao",), set()),
        ("inventory/test_new.py", "test_x", ("serve",), set()),
        ("inventory/test_new.py", "test_x", (), {"nginx"}),
        ("inventory/test_new.py", "test_x", (), {"integration"}),
    ],
)
def test_servers_processes_tui_and_notebooks_are_integration(relpath, function, fixtures, marks):
    assert integration_reason(relpath, function, fixtures, marks) is not None


@pytest.mark.parametrize(
    ("relpath", "function"),
    [
        ("inventory/test_inventory_loader.py", "test_x"),
        ("pki/test_pki_profiles.py", "test_other"),
        ("test_cli_help.py", "test_x"),
        ("tuitest/test_x.py", "test_x"),  # a directory name, not a prefix
    ],
)
def test_plain_unit_tests_are_fast_tier(relpath, function):
    assert integration_reason(relpath, function, ("tmp_path", "monkeypatch"), set()) is None


def test_every_listed_directory_file_and_test_exists():
    # A renamed file would silently drop out of the integration tier: keep the lists true.
    for name in INTEGRATION_DIRS:
        assert (TESTS_ROOT / name).is_dir(), name
    for rel in INTEGRATION_FILES:
        assert (TESTS_ROOT / rel).is_file(), rel
    for node in INTEGRATION_TESTS:
        rel, function = node.split("::")
        assert f"def {function}(" in (TESTS_ROOT / rel).read_text(), node


def test_marks_are_applied_to_collected_items(request):
    # This very test is fast tier; the hook ran over it and left it unmarked.
    assert request.node.get_closest_marker("integration") is None
