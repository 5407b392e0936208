"""The command palette (ctrl+p): one entry for every action the app offers."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider

from workbench.tui.actions import spoken


class WorkbenchCommands(Provider):
    """Lists ``app.palette_commands()``: step actions (workspace only), views, refresh."""

    def _commands(self):
        return self.app.palette_commands()  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
                continue
            said = spoken(title)  # "cut over" finds `cutover`
            score = matcher.match(said) if said != title else 0
            if score > 0:
                yield Hit(score, title, callback, help=help_text)
