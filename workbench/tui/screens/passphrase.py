"""Ask for the CA passphrase once (when WORKBENCH_CA_PASSPHRASE is unset).

The Input is a password field: nothing is echoed, and the value goes only to the
dismiss callback (never to a log, a notification or the screen).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PassphraseScreen(ModalScreen[str | None]):
    """Dismisses with the passphrase, or None when cancelled (escape or empty)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-dialog", classes="dialog"):
            yield Label("The CA key is encrypted. CA passphrase:")
            yield Input(password=True, id="passphrase-input", placeholder="passphrase")
            yield Label("enter: unlock   escape: cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
