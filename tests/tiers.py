"""Which tests are ``integration`` (see tests/conftest.py): the lists and the rule."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

# Whole areas whose tests start real servers, processes or the TUI.
INTEGRATION_DIRS = frozenset({"drill", "gateway", "terminal", "tokens_env", "tui", "vault"})

# Files elsewhere whose tests spawn the CLI or a server as a process, run real gateways, or
# load the sample environment end to end (measured: each takes seconds, not milliseconds).
INTEGRATION_FILES = frozenset(
    {
        "test_notebooks.py",
        "test_lint.py",
        "test_architecture.py",
        "test_cli_basics.py",
        "cli/test_cli_bad_input_process.py",
        "inventory/test_inventory_importers.py",
        "inventory/test_inventory_perf.py",
        "migration/test_migration_cli.py",
        "migration/test_migration_crash.py",
        "migration/test_migration_cutover.py",
        "migration/test_migration_proof.py",
        "migration/test_migration_random_paths.py",
        "migration/test_migration_tokens.py",
        "pki/test_pki_ca_storage.py",
        "pki/test_pki_crl.py",
        "pki/test_pki_thumbprint.py",
        "pki/test_pki_validators.py",
        "planning/test_planning_bench.py",
        "planning/test_planning_cli.py",
        "playbook/test_playbook_formats.py",
        "playbook/test_playbook_without_lab.py",
        "render/test_render_by_use.py",
        "render/test_render_filters.py",
        "render/test_render_hostile.py",
        "render/test_render_outputs.py",
        "report/test_report_cli.py",
        "tokens/test_tokens_cli.py",
        "tokens/test_tokens_thumbprints.py",
        "trust/test_trust_child_env.py",
        "trust/test_trust_cli_edge.py",
        "trust/test_trust_spawn_sites.py",
        "verify/test_verify_cli.py",
        "verify/test_verify_hunt.py",
        "verify/test_verify_matrix.py",
        "verify/test_verify_nginx.py",
        "workspace/test_workspace_atomic.py",
        "workspace/test_workspace_audit.py",
        "workspace/test_workspace_certbulk.py",
        "workspace/test_workspace_certfiles.py",
        # Lab-backed, or seconds of drawing (measured with --durations).
        "report/test_report_drills.py",
        "report/test_rehearsal.py",
        "trust/test_trust_import_linear.py",
        "trust/test_trust_max_bytes.py",
    }
)

# Single slow tests in otherwise fast files ("file::function", every parameter).
INTEGRATION_TESTS = frozenset(
    {
        "pki/test_pki_profiles.py::test_serials_are_unique_over_10000_issuances",
        "report/test_graph_picture.py::test_cli_svg_has_every_node_as_text",
        "report/test_graph_picture.py::test_no_label_overlaps_another",
        "report/test_report_figures.py::test_report_and_pictures_on_degenerate_inventories",
        "report/test_review_charts.py::test_big_reviews_are_cut_and_say_so",
    }
)

# Fixtures that start a server or a process: any test using one is integration wherever it is.
INTEGRATION_FIXTURES = frozenset(
    {"lab", "openbao", "vault_env", "serve", "snap_compare", "sample_ws", "team_ws"}
)

# Marks that imply a real binary or seconds of work.
INTEGRATION_MARKS = frozenset({"nginx", "slow"})

TESTS_ROOT = Path(__file__).resolve().parent


def integration_reason(
    relpath: str, function: str, fixturenames: list[str] | tuple[str, ...], marks: set[str]
) -> str | None:
    """Why test ``function`` (in ``relpath`` under tests/, using ``fixturenames``, carrying
    ``marks``) is integration, or None if it belongs to the fast tier."""
    parts = PurePosixPath(relpath).parts
    if "integration" in marks:
        return "marked"
    if len(parts) > 1 and parts[0] in INTEGRATION_DIRS:
        return f"directory {parts[0]}/"
    if relpath in INTEGRATION_FILES:
        return f"file {relpath}"
    if f"{relpath}::{function}" in INTEGRATION_TESTS:
        return f"test {relpath}::{function}"
    used = INTEGRATION_FIXTURES.intersection(fixturenames)
    if used:
        return f"fixture {sorted(used)[0]}"
    implied = INTEGRATION_MARKS & marks
    if implied:
        return f"mark {sorted(implied)[0]}"
    return None
