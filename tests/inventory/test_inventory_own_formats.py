"""The workbench's own formats as other tools write them (editors, spreadsheets, scripts):
each loads into the right model through the CLI, or is one located line that says what to fix."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.cli import main
from workbench.inventory import dump_inventory, load_inventory

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "formats"

BASE = (FIX / "inventory-bom-crlf.yaml").read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
"""The fixture as an editor on Linux saves it: no BOM, LF."""


def _check(capsys, path: Path) -> tuple[int, list[str], dict]:
    """``inventory check PATH``: exit status, stderr lines, and the --json document."""
    code = main(["inventory", "check", str(path)])
    lines = capsys.readouterr().err.splitlines()
    assert main(["inventory", "check", str(path), "--json"]) == code
    return code, lines, json.loads(capsys.readouterr().out or "{}")


def test_an_inventory_with_bom_crlf_quotes_and_non_ascii_loads_right(capsys):
    inv = load_inventory(FIX / "inventory-bom-crlf.yaml")
    (api,) = inv.apis
    assert (api.id, api.url, api.data_classes) == (
        "pay-api",
        "https://pay.acme.test/",
        ("pci", "pii"),
    )
    assert api.owner == "Équipe Paiement 東京"
    assert [s.id for s in inv.services] == ["web", "batch"]
    (key,) = inv.keys
    assert key.found_in == ("repo:C:\\src\\web\\.env:3", "vault:secret/größe")
    assert [(i.consumer, i.key, i.calls_per_day) for i in inv.integrations] == [
        ("web", "pay-key", 100),
        ("batch", "pay-key", None),
    ]
    # CRLF does not move locations: the key is on line 20 of the file
    assert (key.location.line, key.location.col) == (20, 5)
    code, _lines, doc = _check(capsys, FIX / "inventory-bom-crlf.yaml")
    assert code == 1 and doc["valid"] and doc["counts"]["integrations"] == 2


def test_a_tab_in_the_indentation_says_so(tmp_path, capsys):
    path = tmp_path / "inv.yaml"
    path.write_text(BASE.replace("  - id: web", "\t- id: web"))
    code, lines, _ = _check(capsys, path)
    assert code == 2
    assert lines == [
        f"{path}:11:1: a tab: YAML indents with spaces, never tabs; replace it with spaces"
    ]


def test_field_names_in_another_case_are_one_line_each_and_nothing_else(tmp_path, capsys):
    """``Version:`` used to give 'unknown field' and 'missing version', ``APIs:`` an unknown
    field without a hint plus every key's api reported undeclared."""
    path = tmp_path / "inv.yaml"
    text = BASE.replace("version:", "Version:").replace("apis:", "APIs:")
    path.write_text(text.replace("    owner: team-web", "    Owner: team-web"))
    code, lines, _ = _check(capsys, path)
    assert code == 2
    assert lines == [
        f"{path}:2:1: field 'Version' must be written 'version' (lower case)",
        f"{path}:3:1: field 'APIs' must be written 'apis' (lower case)",
        f"{path}:12:5: field 'Owner' must be written 'owner' (lower case)",
    ]


def test_an_excel_semicolon_sheet_with_a_sep_line_imports_right(capsys):
    """Excel's "sep=;" first line, BOM, CRLF, quoted ;-lists, trailing empty columns."""
    code = main(["import", "csv", str(FIX / "excel-semicolon.csv"), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    inv = json.loads(out.out)["inventory"]
    assert [a["id"] for a in inv["apis"]] == ["payments-api"]
    assert inv["apis"][0]["data_classes"] == ["pci", "pii"]
    assert [(s["id"], s["exposure"]) for s in inv["services"]] == [
        ("checkout-web", "internet"),
        ("mobile-bff", "internet"),
    ]
    assert inv["keys"][0]["found_in"] == ["repo:checkout/.env", "ci:checkout/PAY_KEY"]
    assert [(i["consumer"], i.get("calls_per_day")) for i in inv["integrations"]] == [
        ("checkout-web", 12000),
        ("mobile-bff", 800),
    ]


def test_a_sep_line_keeps_line_numbers_in_errors(tmp_path, capsys):
    path = tmp_path / "sheet.csv"
    text = (FIX / "excel-semicolon.csv").read_bytes().decode("utf-8-sig")
    path.write_text(text.replace("calls_per_day", "calls_per_dya").replace(";800;", ";lots;"))
    assert main(["import", "csv", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:2:13: unknown column 'calls_per_dya'; did you mean 'calls_per_day'?"
    ]
    path.write_text(text.replace(";800;", ";lots;"))
    assert main(["import", "csv", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{path}:4:13: calls_per_day must be a whole number")


def test_utf16_with_its_bom_reads_as_the_same_inventory(tmp_path, capsys):
    """Windows PowerShell's ``>`` writes UTF-16 with a BOM; before: 'not valid UTF-8'."""
    path = tmp_path / "inv.yaml"
    path.write_bytes(BASE.replace("\n", "\r\n").encode("utf-16"))
    assert dump_inventory(load_inventory(path)) == dump_inventory(
        load_inventory(FIX / "inventory-bom-crlf.yaml")
    )
    path.write_bytes(BASE.encode("utf-16-le"))  # no BOM: one line saying what it is
    code, lines, _ = _check(capsys, path)
    assert code == 2
    assert lines == [
        f"{path}:1:2: a NUL character: not text (UTF-16 without a byte-order mark?); "
        "save it as UTF-8"
    ]


def test_a_multi_line_block_says_how_to_keep_it_on_one_line(tmp_path, capsys):
    path = tmp_path / "inv.yaml"
    block = "    exposure: internal\n    notes: |\n      Nightly batch.\n      Pager: team-web.\n"
    path.write_text(BASE.replace("    exposure: internal\n", block, 1))
    code, lines, _ = _check(capsys, path)
    assert code == 2
    assert lines == [
        f"{path}:15:12: notes contains control or invisible character U+000A (a line break); "
        "keep it on one line (in YAML a folded block, >-, joins the lines)"
    ]
    path.write_text(BASE.replace("    exposure: internal\n", block.replace("|", ">-"), 1))
    assert load_inventory(path).service("web").notes == "Nightly batch. Pager: team-web."
