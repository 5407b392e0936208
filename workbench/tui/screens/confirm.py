"""A yes/no question before an action that changes a live gateway or revokes.

Enter presses the highlighted button, which starts on Cancel and is named in the hint line,
so what Enter does is never a guess; ``y`` confirms and ``n`` or Escape cancel.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True only when the person chooses the confirm button (or ``y``)."""

    BINDINGS = [
        Binding("escape,n", "cancel", "cancel"),
        Binding("y", "confirm", "confirm"),
    ]

    def __init__(self, question: str, confirm_label: str = "Confirm") -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.question, id="confirm-question")
            yield Static("", id="confirm-hint", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, variant="warning", id="confirm-yes")
                yield Button("Cancel", variant="primary", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # the safe choice is the default
        self._hint()

    def on_descendant_focus(self) -> None:
        self._hint()

    def _hint(self) -> None:
        focused = self.focused
        label = focused.label if isinstance(focused, Button) else "Cancel"
        self.query_one("#confirm-hint", Static).update(
            f"Enter presses {label}; Tab switches; y confirms; n or Esc cancels"
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
