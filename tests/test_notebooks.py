"""Every notebook runs top to bottom in a real kernel, from another working directory, on the
sample and on other inventories, with parameters injected the way papermill does (a cell
tagged ``injected-parameters`` after the one tagged ``parameters``); draws its pictures, shows
the inventory it was given, and leaks no key value."""

import datetime as dt
import re
import sqlite3
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import workbench as wb

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {p.stem: p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
TEAM = ROOT / "tests" / "report" / "team_inventory.yaml"
PICTURES = {"plan_migration": 3, "cutover_review": 3, "program_report": 5}
ORPHAN_ONLY = """\
version: 1
apis:
  - {id: one-api, url: "https://one.example/x", data_classes: [pii], owner: t, environment: prod}
services:
  - {id: nobody, owner: t, environment: prod, exposure: internal}
keys:
  - {id: unused-key, api: one-api, secret_ref: "env:UNUSED_KEY"}
integrations: []
"""
NO_KEYS = """\
version: 1
apis:
  - {id: lonely-api, url: "https://lonely.example/", data_classes: [], owner: t, environment: dev}
services: []
keys: []
integrations: []
"""


def inject(nb, parameters: dict) -> None:
    """papermill's convention: the new values in a cell right after the ``parameters`` cell."""
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(at + 1, cell)


def run(name: str, tmp_path: Path, **parameters) -> tuple[nbformat.NotebookNode, str]:
    """Execute notebook ``name`` in a real kernel from an unrelated directory; (output, text)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    if parameters:
        inject(nb, {k: str(v) if isinstance(v, Path) else v for k, v in parameters.items()})
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(elsewhere)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    nbformat.validate(nb)
    out = tmp_path / f"{name}.out.ipynb"
    nbformat.write(nb, out)
    return nb, nbformat.writes(nb)


def outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def markdown(nb) -> str:
    return "\n".join(
        o["data"]["text/markdown"] for o in outputs(nb) if "text/markdown" in o.get("data", {})
    )


def check_common(name: str, nb, text: str, leaks: list[str]) -> None:
    assert not [o for o in outputs(nb) if o.output_type == "error"]
    images = [o for o in outputs(nb) if "image/png" in o.get("data", {})]
    assert len(images) >= PICTURES[name]
    for value in leaks:
        assert value not in text  # req 11: no key value in notebook outputs


def key_values(rehearsal_dir: Path) -> list[str]:
    return [p.read_text().strip() for p in (rehearsal_dir / "state" / "keys").glob("*.key")]


def db(workspace: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{workspace / 'state.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def team_ws(tmp_path_factory) -> Path:
    return wb.rehearse(TEAM, tmp_path_factory.mktemp("team-rehearsal"))


def test_the_sample_is_found_through_the_package_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wb.sample_inventory_path() == (ROOT / "sample_env" / "inventory.yaml").resolve()


def test_the_three_notebooks_are_committed_clean_with_parameters():
    assert set(NOTEBOOKS) >= set(PICTURES)
    for name, path in NOTEBOOKS.items():
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{name}: one cell tagged 'parameters'"
        assert re.search(r"^inventory = None", tagged[0].source, re.M)
        assert re.search(r"^workspace = None", tagged[0].source, re.M)
        assert "import workbench as wb" in nbformat.writes(nb)
        assert "../" not in nbformat.writes(nb), f"{name}: no relative paths"


def test_plan_with_defaults_shows_the_sample(tmp_path):
    nb, text = run("plan_migration", tmp_path)
    check_common("plan_migration", nb, text, [])
    inv = wb.load_inventory(wb.sample_inventory_path())
    md = markdown(nb)
    for key in inv.keys:
        assert key.id.replace("-", "\\-") in md  # every step in the plan table


def test_plan_on_another_inventory(tmp_path):
    nb, text = run("plan_migration", tmp_path, inventory=TEAM, layout="kind")
    check_common("plan_migration", nb, text, [])
    md = markdown(nb)
    assert "orders\\-key" in md and "key\\-third\\-party" in md
    assert "pay\\-key\\-prod" not in md  # nothing of the sample leaks in
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and str(TEAM) in injected[0].source


@pytest.mark.parametrize("name", ["cutover_review", "program_report"])
def test_review_and_report_rehearse_the_sample_when_given_no_workspace(name, tmp_path):
    rehearsal = tmp_path / "rehearsal"
    nb, text = run(name, tmp_path, rehearsal_dir=rehearsal)
    ws = rehearsal / "workspace"
    check_common(name, nb, text, key_values(rehearsal))
    md = markdown(nb)
    verified = db(ws, "SELECT count(*) FROM steps WHERE state='verified'")[0][0]
    assert verified >= 1
    if name == "cutover_review":
        for key, verdict in db(
            ws,
            "SELECT step_key, verdict FROM verdicts v WHERE id = "
            "(SELECT max(id) FROM verdicts WHERE step_key = v.step_key)",
        ):
            assert re.search(
                rf"\| {re.escape(key.replace('-', chr(92) + '-'))} \|.*\| {verdict} \|", md
            )
        assert "FAIL" in md  # the rehearsal's deliberately broken change
    else:
        total = db(ws, "SELECT count(*) FROM steps")[0][0]
        assert f"| keys retired | {verified} | {total} |" in md
        drills = db(ws, "SELECT count(*), sum(verdict = 'PASS') FROM drills")[0]
        assert drills[0] >= 1, "the report's rehearsal ends with a canary drill"
        assert f"{drills[0]} drill(s), {drills[1]} PASS" in text and "no drill yet" not in text


@pytest.mark.parametrize("name", ["cutover_review", "program_report"])
def test_review_and_report_on_another_teams_workspace(name, tmp_path, team_ws):
    nb, text = run(name, tmp_path, workspace=team_ws)
    check_common(name, nb, text, key_values(team_ws.parent))
    md = markdown(nb)
    assert "pay\\-key\\-prod" not in md and "pay-key-prod" not in text
    if name == "cutover_review":
        states = dict(db(team_ws, "SELECT key, state FROM steps"))
        for key, state in states.items():
            escaped_key = re.escape(key.replace("-", "\\-"))
            escaped_state = re.escape(state.replace("_", "\\_"))
            assert re.search(rf"{escaped_key} \|.*{escaped_state}", md)
    else:
        not_retired = {k for (k,) in db(team_ws, "SELECT key FROM steps WHERE state!='verified'")}
        tracked = ("key-shared", "key-spans-environments", "key-third-party")
        inv = wb.load_inventory(TEAM)
        open_keys = {
            f.subject
            for f in wb.find_findings(inv, today=dt.date.today())
            if f.code in tracked and f.subject in not_retired
        }
        for key in open_keys:
            assert key.replace("-", "\\-") in md.split("| kind | key |")[1]
        if not open_keys:
            assert "None open." in md
        verified = len(inv.keys) - len(not_retired)
        assert f"| keys retired | {verified} | {len(inv.keys)} |" in md
        assert "no drill yet" in text


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("plan_migration", NO_KEYS),
        ("plan_migration", ORPHAN_ONLY),
        ("cutover_review", ORPHAN_ONLY),
        ("program_report", NO_KEYS),
    ],
    ids=["plan-no-keys", "plan-orphan", "review-orphan", "report-no-keys"],
)
def test_degenerate_inventories(name, text, tmp_path):
    source = tmp_path / "inventory.yaml"
    source.write_text(text)
    extra = {} if name == "plan_migration" else {"rehearsal_dir": tmp_path / "rehearsal"}
    nb, out = run(name, tmp_path, inventory=source, **extra)
    check_common(name, nb, out, [])
