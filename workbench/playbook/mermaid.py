"""The Mermaid picture of a step: consumers -> key -> API <- provider.

A picture handed in by the caller (e.g. ``workbench graph --format mermaid`` cut down to the
key's neighbourhood) is used only when every line matches a small, inert grammar: a
``flowchart``/``graph`` header, node lines with double-quoted labels, plain edges, ``%%``
comments. Anything else (``click`` callbacks, ``%%{init}%%`` directives, HTML in labels,
backticks that could close the fenced block) makes us derive the picture ourselves instead.
"""

from __future__ import annotations

import re

from workbench.playbook.model import TicketContext
from workbench.playbook.text import clean, mermaid_label

__all__ = ["accept_mermaid", "derive_mermaid", "step_mermaid"]

_ID = r"[A-Za-z][A-Za-z0-9_]{0,40}"
_LABEL = r'"[^"`<>\\\n\r]{0,200}"'
_SHAPES = (r"\[", r"\(\[", r"\{\{", r"\(\(", r"\(", r"\[\[", r"\[/", r">")
_CLOSE = r"(?:\]|\]\)|\}\}|\)\)|\)|\]\]|/\])"
_NODE = rf"{_ID}\s*(?:{'|'.join(_SHAPES)}){_LABEL}{_CLOSE}"
_ARROW = r"(?:-->|---|-\.->|==>|--o|--x)"
_GRAMMAR = re.compile(
    rf"""^\s*(?:
        (?:flowchart|graph)\s+(?:LR|RL|TB|TD|BT)
      | {_NODE}
      | (?:{_NODE}|{_ID})\s*{_ARROW}\s*(?:\|{_LABEL}\|\s*)?(?:{_NODE}|{_ID})
      | %%(?!\{{)[^`\n\r]*
      | )\s*$""",
    re.VERBOSE,
)
_FORBIDDEN_WORDS = re.compile(r"^\s*(click|style|classDef|linkStyle|callback)\b", re.I)


def accept_mermaid(text: str) -> str | None:
    """``text`` stripped of trailing space if every line is inert and it has a header, else None."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept = [clean(line).rstrip() for line in lines]
    if not any(re.match(r"^\s*(flowchart|graph)\s", line) for line in kept):
        return None
    for line in kept:
        if _FORBIDDEN_WORDS.match(line) or not _GRAMMAR.match(line):
            return None
    return "\n".join(kept).strip("\n")


def derive_mermaid(ctx: TicketContext) -> str:
    """A small flowchart built from the ticket's own ids (labels sanitised and quoted)."""
    lines = ["flowchart LR"]
    for i, c in enumerate(ctx.consumers):
        lines.append(f"  c{i}[{mermaid_label(c.service)}] --> k0")
    lines.append(f"  k0([{mermaid_label('key ' + ctx.step_key)}]) --> a0")
    lines.append(f"  a0{{{{{mermaid_label('api ' + ctx.api.id)}}}}}")
    if ctx.api.provided_by:
        lines.append(f"  p0[{mermaid_label(ctx.api.provided_by)}] --- a0")
    return "\n".join(lines)


def step_mermaid(ctx: TicketContext) -> tuple[str, str]:
    """(picture, source): the given picture when it is inert, else a derived one."""
    if ctx.mermaid:
        accepted = accept_mermaid(ctx.mermaid)
        if accepted is not None:
            return accepted, "given"
        return derive_mermaid(ctx), "derived (the given picture was not inert Mermaid)"
    return derive_mermaid(ctx), "derived"
