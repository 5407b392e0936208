"""A refused cut-over: the reason, and the CLI's ways on as explicit buttons.

``--since T`` (count only old-key use after T: here one second after the last use found)
and ``--force`` (cut over despite it), or cancel. The default button is Cancel.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from workbench.tui.checks import BlockedCutover


class BlockedCutoverScreen(ModalScreen[str | None]):
    """Dismisses with ``"since"``, ``"force"`` or None (cancel)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, blocked: BlockedCutover) -> None:
        super().__init__()
        self.blocked = blocked

    def compose(self) -> ComposeResult:
        b = self.blocked
        since = b.later_since.isoformat(timespec="seconds")
        text = (
            f"cutover --step {b.step} refused by its usage check.\n\n{b.reason()}\n\n"
            f"--since {since}: count only use after the last one found (when those clients "
            "have moved to their certificates).\n"
            "--force: cut over now; clients still sending the old key get refused."
        )
        with Vertical(id="blocked-dialog", classes="dialog"):
            with VerticalScroll(classes="dialog-body"):
                yield Static(text, id="blocked-reason")
            yield Label("Enter presses the highlighted button; Esc cancels", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("--since", variant="warning", id="blocked-since")
                yield Button("--force", variant="error", id="blocked-force")
                yield Button("Cancel", variant="primary", id="blocked-cancel")

    def on_mount(self) -> None:
        self.query_one("#blocked-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choice = {"blocked-since": "since", "blocked-force": "force"}.get(event.button.id or "")
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)
