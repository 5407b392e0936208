"""Parameters for an action (export playbook, revoke, renew), as the CLI's options.

Each field is a choice list or a text input; the dialog returns ``{name: value}`` or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static


@dataclass(frozen=True)
class Field:
    """One option of the form."""

    name: str
    label: str
    """The CLI option it stands for, e.g. ``--format``."""
    choices: Sequence[tuple[str, object]] = ()
    """(label, value) pairs; empty for a text input."""
    default: object = None


class FormScreen(ModalScreen[dict | None]):
    """Dismisses with the chosen values, or None (Cancel, Escape)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, fields: Sequence[Field], run_label: str = "Run") -> None:
        super().__init__()
        self.title_text = title
        self.fields = tuple(fields)
        self.run_label = run_label

    def compose(self) -> ComposeResult:
        with Vertical(id="form-dialog", classes="dialog"):
            yield Static(self.title_text, id="form-title")
            with VerticalScroll(classes="dialog-body"):
                for f in self.fields:
                    yield Label(f.label, classes="form-label")
                    if f.choices:
                        yield Select(
                            [(label, value) for label, value in f.choices],
                            value=f.default if f.default is not None else f.choices[0][1],
                            allow_blank=False,
                            id=f"form-{f.name}",
                        )
                    else:
                        yield Input(value=str(f.default or ""), id=f"form-{f.name}")
            yield Label("Tab: next field   Esc: cancel", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.run_label, variant="warning", id="form-run")
                yield Button("Cancel", variant="primary", id="form-cancel")

    def values(self) -> dict:
        out = {}
        for f in self.fields:
            widget = self.query_one(f"#form-{f.name}")
            out[f.name] = widget.value
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self.values())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.values() if event.button.id == "form-run" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
