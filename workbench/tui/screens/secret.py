"""Ask for a missing old-key value (an ``env:`` reference whose variable is not set).

The Input is a password field: nothing is echoed. The value goes only to the dismiss
callback, which keeps it in memory for this session; it is never logged, shown or stored.
Escape explains how to provide it without leaving the TUI.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class OldKeyScreen(ModalScreen[str | None]):
    """Dismisses with the value, or None when cancelled (escape or empty)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, step: str, variable: str) -> None:
        super().__init__()
        self.step = step
        self.variable = variable

    def compose(self) -> ComposeResult:
        with Vertical(id="oldkey-dialog", classes="dialog"):
            yield Static(
                f"The old key of {self.step} comes from ${self.variable}, which is not set. "
                "Type its value: it is hidden, kept in memory for this session only, and never "
                "shown, logged or written.",
                id="oldkey-text",
            )
            yield Input(password=True, id="oldkey-input", placeholder=self.variable)
            yield Label("Enter: use it   Esc: cancel (nothing is run)", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
