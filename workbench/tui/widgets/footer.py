"""The footer: Textual's, recomposed once per burst of binding changes.

Textual's ``Footer`` rebuilds all its keys after every change of the bindings; at start-up
the auto focus, the screen's activation and the first refreshes each ask for it, and the
five rebuilds cost more CPU than drawing the rest of the first frame. Pending requests are
merged: the one rebuild reads the bindings as they are when it runs.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A ``Footer`` that merges pending rebuild requests into one."""

    _rebuild_pending = False

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
