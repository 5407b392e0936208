"""A stored drill as a ticket: Markdown for people (user text escaped, req. 22), or JSON.

The ticket names the audit chain head it was exported at, so a reader can check the drill
is still in the chain (`workbench audit verify --anchor SEQ:HASH`).
"""

from __future__ import annotations

import json

from workbench.playbook.text import md_code, md_code_block, md_escape

__all__ = ["render_ticket"]

_TITLES = {
    "revoke": "Revocation drill",
    "canary": "Canary revocation drill",
    "kill-key": "Emergency key kill",
}


def _s(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def render_ticket(doc: dict, *, fmt: str = "md", chain_head: tuple[int, str] | None = None) -> str:
    """Render ``doc`` (a stored drill report) as ``md`` or ``json``."""
    if fmt == "json":
        out = dict(doc)
        if chain_head is not None:
            out["audit_chain_head"] = {"seq": chain_head[0], "hash": chain_head[1]}
        return json.dumps(out, indent=2, sort_keys=True) + "\n"
    e = md_escape
    title = _TITLES.get(doc["kind"], "Drill")
    lines = [
        f"# {title} {doc.get('id', '')}: {e(doc['subject'])}: **{e(doc['verdict'])}**",
        "",
        f"- started: {e(doc['started_at'])}, finished: {e(doc['finished_at'])}",
        f"- deadline: {doc['deadline_s']:g} s",
        f"- revoked: {', '.join(str(md_code(s)) for s in doc['revoked']) or '-'}",
    ]
    if doc.get("crl_number") is not None:
        lines.append(f"- CRL number published: {doc['crl_number']}")
    slowest = doc.get("slowest")
    if slowest:
        lines.append(
            f"- slowest entry point: {e(slowest['entry_point'])} ({_s(slowest['stable_s'])} s)"
        )
    if chain_head is not None:
        lines.append(f"- audit chain head at export: {chain_head[0]}:{md_code(chain_head[1])}")
    lines += [
        "",
        "## Gateways",
        "",
        "| gateway | kind | server | push s | CRL | median s | worst s |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in doc["gateways"]:
        crl = (g.get("crl") or {}).get("number", "-")
        lines.append(
            f"| {e(g['id'])} | {e(g['kind'])} | {e(g['server'])} | {_s(g.get('push_s'))} | "
            f"{crl} | {_s(g.get('median_s'))} | {_s(g.get('worst_s'))} |"
        )
    lines += [
        "",
        "## Time to refusal per entry point",
        "",
        "| gateway | entry point | address | first refusal s | stable s | probes | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in doc["entry_points"]:
        result = "refused" if r["refused"] else r["last_outcome"]
        lines.append(
            f"| {e(r['gateway'])} | {e(r['entry_point'])} | {e(r['address'])} | "
            f"{_s(r['first_refusal_s'])} | {_s(r['stable_s'])} | {r['probes']} | {e(result)} |"
        )
    if doc.get("controls"):
        lines += ["", "## Controls (good credentials that had to stay accepted)", ""]
        for c in doc["controls"]:
            lines.append(
                f"- {e(c['credential'])} at {e(c['entry_point'])}: {e(', '.join(c['outcomes']))}"
            )
    lines += ["", "## Findings", ""]
    reasons = doc.get("reasons") or []
    lines += [f"- {e(r)}" for r in reasons] or ["- none: every check held"]
    checks = json.dumps(doc.get("checks", {}), indent=1, sort_keys=True)
    lines += ["", "## Checks", "", str(md_code_block(checks, "json"))]
    return "\n".join(lines) + "\n"
