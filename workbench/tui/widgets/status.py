"""The status strip: what is running and how far it got (hidden when idle)."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class ActionStatus(Horizontal):
    """A label and a progress bar; visible only while an action runs."""

    def compose(self):
        yield Label("", id="status-label")
        yield ProgressBar(id="status-bar", show_eta=False)

    def start(self, text: str) -> None:
        self.query_one("#status-label", Label).update(text)
        self.query_one("#status-bar", ProgressBar).update(total=None, progress=0)
        self.add_class("running")

    def advance(self, done: int, total: int | None) -> None:
        self.query_one("#status-bar", ProgressBar).update(total=total, progress=done)

    def stop(self) -> None:
        self.remove_class("running")
