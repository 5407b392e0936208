"""The footer at 80x24 (first-class) and 160x45: every action key with its description, the
palette key and quit, as drawn on the screen's last row; the view keys 1-4 sit on the tab
headers instead (and still work); the planning view hides the action keys."""

import pytest
from tui_support import (
    app_inventory,
    make_workspace,
    planning_app,
    screen_rows,
    settle,
    workspace_app,
)

from workbench.tui.widgets.footer import KeysFooter

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 45), id="160x45")]
ACTION_KEYS = ["i Issue", "d Dual", "u Usage", "c Cut over", "v Verify"]
ALWAYS = ["^q Quit", "^r Reload", "^p palette"]
TAB_HEADERS = {"1": ("plan", "1 Plan"), "2": ("evidence", "2 Evidence")}
TAB_HEADERS |= {"3": ("audit", "3 Audit log"), "4": ("findings", "4 Findings")}


async def _views_by_number(app, pilot) -> None:
    """The tab headers name the view keys, and the keys switch views."""
    rows = screen_rows(app)
    tab_row = next(row for row in rows if "Plan" in row and "Findings" in row)
    for key, (tab, header) in reversed(TAB_HEADERS.items()):
        assert header in tab_row, (header, tab_row)
        await pilot.press(key)
        await pilot.pause()
        assert app.query_one("#tabs").active == tab


@pytest.mark.parametrize("size", SIZES)
async def test_the_workspace_footer_shows_every_action_key(tmp_path, quiet_env, size):
    app = workspace_app(make_workspace(tmp_path))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        footer = screen_rows(app)[-1]
        for key in ACTION_KEYS + ALWAYS:
            assert key in footer, (key, footer)
        # Drawn live once loaded, not greyed as while loading (it was until a focus change).
        keys = app.query_one(KeysFooter).children
        assert keys and not [k.key for k in keys if k.has_class("-disabled")]
        await _views_by_number(app, pilot)
        assert screen_rows(app)[-1] == footer  # the same keys on every view


@pytest.mark.parametrize("size", SIZES)
async def test_the_planning_footer_hides_the_action_keys(tmp_path, quiet_env, size):
    app, _ = planning_app(app_inventory(tmp_path))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        footer = screen_rows(app)[-1]
        for key in ALWAYS:
            assert key in footer, (key, footer)
        for key in ACTION_KEYS:
            assert key.split(" ", 1)[1] not in footer, (key, footer)
        await _views_by_number(app, pilot)
