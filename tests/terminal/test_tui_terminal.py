"""`workbench tui` in a real terminal (tmux): it draws at every size, terminal type and
locale, every way out gives the terminal back to the shell, and a damaged workspace is one
line, never a traceback."""

from __future__ import annotations

import signal

import pytest
from terminal import BASE_ENV, GIVEN_BACK, WORKBENCH

FOOTER = ("Quit", "Issue", "Dual", "Usage", "Cut over", "Verify", "Reload", "palette")


def _no_traceback(screen: str) -> None:
    assert "Traceback" not in screen and "locals" not in screen, screen


@pytest.mark.parametrize(
    ("size", "env", "quit_key"),
    [
        ("80x24", {"TERM": "xterm-256color"}, "C-q"),
        ("100x30", {"TERM": "screen"}, "q"),
        ("200x50", {"TERM": "dumb"}, "C-c"),
        ("80x24", {"TERM": "xterm-256color", "NO_COLOR": "1"}, "q"),
        ("80x24", {"TERM": "xterm-256color", "LANG": "C", "LC_ALL": "C"}, "C-c"),
    ],
    ids=["80x24-xterm-ctrl+q", "100x30-screen-q", "200x50-dumb-ctrl+c", "no-color-q", "C-locale"],
)
def test_the_tui_draws_its_keys_and_every_quit_key_gives_the_terminal_back(
    terminal, workspace, size, env, quit_key
):
    """q and ctrl+c quit as ctrl+q does (ctrl+c only told the user to press ctrl+q, q did
    nothing), from any terminal type and locale, with the modes reset."""
    term = terminal(
        [WORKBENCH, "tui", "--workspace", workspace], size=size, env={**BASE_ENV, **env}
    )
    screen = term.wait_for(*FOOTER, "records-key", "waves and steps (16)")
    _no_traceback(screen)
    term.keys(quit_key)
    assert term.exit_status() == 0
    assert term.modes() == GIVEN_BACK
    _no_traceback(term.screen())


@pytest.mark.parametrize(
    ("signum", "said"),
    [
        (signal.SIGTERM, "stopped by SIGTERM"),
        (signal.SIGHUP, "stopped by SIGHUP"),
        (signal.SIGINT, "interrupted"),
    ],
    ids=["TERM", "HUP", "INT"],
)
def test_a_signal_ends_the_tui_with_the_terminal_given_back(terminal, workspace, signum, said):
    """`kill PID` used to leave the shell on the alternate screen with mouse reporting on
    and no cursor; SIGINT exited 0. Now: terminal reset, one line, 128 + the signal."""
    term = terminal([WORKBENCH, "tui", "--workspace", workspace], env=BASE_ENV)
    term.wait_for(*FOOTER, "records-key")
    term.signal(signum)
    assert term.exit_status() == 128 + signum
    assert term.modes() == GIVEN_BACK
    screen = term.screen()
    assert said in screen
    _no_traceback(screen)


def test_resized_while_running_it_redraws_for_the_new_size(terminal, workspace):
    term = terminal([WORKBENCH, "tui", "--workspace", workspace], size="100x30", env=BASE_ENV)
    term.wait_for(*FOOTER, "records-key")
    term.resize("200x50")
    term.wait_for("API", "customer-profile-api", *FOOTER)  # the wide table's API column
    term.resize("80x24")
    screen = term.wait_for("^q Quit i Issue", "v Verify ^r Reload")  # the compact footer
    assert "customer-profile-api" not in screen  # API column dropped at 80 columns
    term.keys("C-q")
    assert term.exit_status() == 0
    assert term.modes() == GIVEN_BACK


def test_help_and_the_palette_work_at_80x24(terminal, workspace):
    term = terminal([WORKBENCH, "tui", "--workspace", workspace], env=BASE_ENV)
    term.wait_for(*FOOTER, "records-key")
    term.keys("C-p")
    term.wait_for("Search for commands")
    term.type("verify --wave")
    term.wait_for("verify --wave 1", "probe every step of the wave")
    term.keys("Escape")
    term.wait_gone("🔎")  # the palette closed (an Escape with a key right after is alt+key)
    term.keys("C-p")
    term.wait_for("Search for commands")
    term.type("keys")
    term.wait_for("Show help for the focused widget")
    term.keys("Enter")
    term.wait_for("Cursor up", "Quit")  # the key panel beside the app
    term.keys("C-q")
    assert term.exit_status() == 0
    assert term.modes() == GIVEN_BACK


@pytest.mark.parametrize("damage", ["garbage", "truncated", "table-missing"])
def test_a_damaged_workspace_database_is_one_line_not_a_traceback(terminal, workspace, damage):
    """SQLite's own errors reached the screen as a full Textual traceback (exit 1)."""
    import sqlite3

    db = workspace / "state.db"
    if damage == "garbage":
        db.write_bytes(b"\x17not sqlite at all\x00" * 200)
    elif damage == "truncated":
        db.write_bytes(db.read_bytes()[:20000])
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("DROP TABLE steps")
    term = terminal([WORKBENCH, "tui", "--workspace", workspace], env=BASE_ENV)
    assert term.exit_status() == 2
    text = term.text()
    [said] = [line for line in text.splitlines() if line.strip()][:-1]  # one line, then status
    assert "state.db cannot be read" in said and "restore state.db from a backup" in said, text
    _no_traceback(text)
    assert term.modes() == GIVEN_BACK
