"""The footer: Textual's, recomposed once per burst of binding changes, compact when narrow.

Textual's ``Footer`` rebuilds all its keys after every change of the bindings; at start-up
the auto focus, the screen's activation and the first refreshes each ask for it, and the
five rebuilds cost more CPU than drawing the rest of the first frame. Pending requests are
merged: the one rebuild reads the bindings as they are when it runs.

At 80 columns the workspace's keys (quit, the five actions, reload and the palette) need
all 80 in Textual's regular style, 72 in its compact one: below ``COMPACT_BELOW`` columns
the footer is compact, so they fit with room to spare.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widgets import Footer

COMPACT_BELOW = 100
"""Terminal widths under this many columns get the compact footer."""


class KeysFooter(Footer):
    """A ``Footer`` that merges pending rebuild requests into one and is compact when narrow."""

    _rebuild_pending = False

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if self._rebuild_pending or not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
