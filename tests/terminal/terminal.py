"""A real terminal for the tests: the installed ``workbench`` binary in a tmux pane.

tmux is a terminal emulator: what the program writes is drawn on a screen of the size
asked for, keys arrive as a terminal sends them (ctrl+c as the byte 0x03, which the tty
turns into SIGINT for a program in cooked mode), and the pane's modes (alternate screen,
mouse reporting, cursor shown) can be read back after the program ends, which is what a
user's shell gets. Each terminal has its own tmux server on a private socket. The program
runs under a small shell that, like the user's, stays in the pane when it ends and prints
its exit status there (a dead pane would report no cursor at all). Waiting is polling the
screen against a deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from testkit import require

__all__ = ["BASE_ENV", "GIVEN_BACK", "PASSPHRASE", "WORKBENCH", "Terminal"]

ROOT = Path(__file__).resolve().parents[2]
WORKBENCH = ROOT / ".venv" / "bin" / "workbench"
"""The console script `make setup` installs: what a user runs."""

PASSPHRASE = "terminal-test-passphrase-not-secret"
"""The CA passphrase of the tests' workspaces."""

BASE_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": os.environ.get("HOME", "/root"),
    "LANG": "C.UTF-8",
    "TERM": "xterm-256color",
    "TEXTUAL_ANIMATIONS": "none",
}
"""What the program's environment holds besides what a test adds (no user settings)."""


class Terminal:
    """One tmux pane running one command; ``close()`` ends its tmux server."""

    def __init__(self, argv: list[str], *, size: str = "80x24", env=None, cwd=None) -> None:
        tmux = require("tmux", "tmux")
        self._dir = Path(tempfile.mkdtemp(prefix="wbt"))  # short: socket paths are limited
        self._tmux = [tmux, "-S", str(self._dir / "s"), "-f", str(self._dir / "conf")]
        (self._dir / "conf").write_text("set -g status off\n")
        width, height = size.split("x")
        program = ["env", "-i", *(f"{k}={v}" for k, v in (env or {}).items()), *argv]
        # `trap : INT`: a ctrl+c in cooked mode goes to the shell too, which must outlive the
        # program (a handler, not an ignore: an ignored signal would be inherited).
        shell = 'trap : INT; "$@"; echo "[exited $?]"; exec sleep 100000'
        command = shlex.join(["sh", "-c", shell, "sh", *program])
        self._run("new-session", "-d", "-x", width, "-y", height, "-c", str(cwd or ROOT), command)

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [*self._tmux, *args], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout

    def _show(self, fmt: str) -> str:
        return self._run("display-message", "-p", "-t", "0", fmt).strip()

    @property
    def pid(self) -> int:
        """The program's PID: the shell's child (``env -i`` execs the program)."""
        shell = int(self._show("#{pane_pid}"))
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        return int(children[0])

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "0")

    def text(self) -> str:
        """The screen with the lines the terminal wrapped joined again (messages, not UIs)."""
        return self._run("capture-pane", "-p", "-J", "-t", "0")

    def keys(self, *keys: str) -> None:
        """Keys as tmux names them: ``C-q``, ``Enter``, ``Escape``; other text is typed."""
        self._run("send-keys", "-t", "0", *keys)

    def type(self, text: str) -> None:
        self._run("send-keys", "-t", "0", "-l", text)

    def signal(self, signum: signal.Signals) -> None:
        os.kill(self.pid, signum)

    def resize(self, size: str) -> None:
        width, height = size.split("x")
        self._run("resize-window", "-t", "0", "-x", width, "-y", height)

    def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        """The screen, once it shows every one of ``texts``; fails with the screen after
        ``timeout`` seconds (or at once when the program ended without drawing them)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            if self.exited() or time.monotonic() > deadline:
                screen = self.screen()
                if all(t in screen for t in texts):
                    return screen
                missing = [t for t in texts if t not in screen]
                raise AssertionError(f"never on the screen: {missing}\n{screen}")
            time.sleep(0.05)  # a poll interval, not a synchronisation

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        """The screen, once ``text`` is no longer on it (a dialog closed)."""
        deadline = time.monotonic() + timeout
        while text in (screen := self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"still on the screen: {text!r}\n{screen}")
            time.sleep(0.05)  # a poll interval, not a synchronisation
        return screen

    def _status(self) -> int | None:
        found = re.findall(r"\[exited (\d+)\]", self.screen())
        return int(found[-1]) if found else None

    def exited(self) -> bool:
        return self._status() is not None

    def exit_status(self, timeout: float = 60.0) -> int:
        """The program's exit status once it has ended (128 + N when a signal N ended it)."""
        deadline = time.monotonic() + timeout
        while (status := self._status()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout:.0f} s\n{self.screen()}")
            time.sleep(0.05)  # a poll interval, not a synchronisation
        return status

    def modes(self) -> dict[str, str]:
        """The terminal modes the program left: what the user's shell gets back."""
        names = {
            "alternate screen": "alternate_on",
            "cursor shown": "cursor_flag",
            "mouse reporting": "mouse_any_flag",
            "mouse (SGR)": "mouse_sgr_flag",
            "keypad": "keypad_flag",
        }
        return {name: self._show(f"#{{{flag}}}") for name, flag in names.items()}

    def close(self) -> None:
        subprocess.run([*self._tmux, "kill-server"], capture_output=True, timeout=30, check=False)
        shutil.rmtree(self._dir, ignore_errors=True)


GIVEN_BACK = {
    "alternate screen": "0",
    "cursor shown": "1",
    "mouse reporting": "0",
    "mouse (SGR)": "0",
    "keypad": "0",
}
"""The modes of a terminal a full-screen program has handed back to the shell."""
