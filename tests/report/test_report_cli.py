"""`workbench report`: the files a person attaches to a mail, and its bad-input errors."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from report_support import db_rows, key_values

from workbench.cli import main

CHARTS = (
    "sender-constrained",
    "data-classes",
    "discovery-to-retirement",
    "certificates-expiring",
    "revocation-drills",
)


def _svg_texts(path) -> str:
    root = ET.parse(path).getroot()  # raises on a malformed picture
    assert root.tag.endswith("svg")
    return " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_writes_document_figures_and_pictures(sample_ws, tmp_path, capsys, fmt):
    out = tmp_path / "out"
    assert main(["report", "--workspace", str(sample_ws), "--format", fmt, "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    doc = (out / f"report.{fmt}").read_text()
    figures = json.loads((out / "figures.json").read_text())
    verified = db_rows(sample_ws, "SELECT count(*) FROM steps WHERE state='verified'")[0][0]
    total = db_rows(sample_ws, "SELECT count(*) FROM steps")[0][0]
    assert figures["keys"]["retired"] == verified and figures["keys"]["total"] == total
    drills = db_rows(sample_ws, "SELECT count(*) FROM drills")[0][0]
    assert drills >= 1 and figures["revocation_drills"]["drills"] == drills
    assert f"{verified} of {total}" in doc
    for name in CHARTS:
        assert (out / f"{name}.svg").is_file()
        assert f"{name}.svg" in doc  # the document shows its pictures
    assert "retired" in _svg_texts(out / "data-classes.svg")
    assert "lab (python)" in _svg_texts(out / "revocation-drills.svg")
    everything = "".join(p.read_text() for p in out.iterdir())
    for value in key_values(sample_ws):
        assert value not in everything  # req 11
    if fmt == "md":
        assert "<" not in doc.replace("&lt;", "")  # req 22: no raw HTML in Markdown
    else:
        assert doc.startswith("<!doctype html>") and "<script" not in doc
        assert "http://" not in doc and "https://" not in doc  # no remote pictures


def test_report_json_and_same_bytes_twice(sample_ws, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["report", "--workspace", str(sample_ws), "-o", str(out), "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"figures", "files"} and len(data["files"]) == 2 + len(CHARTS)
    first = (out / "data-classes.svg").read_bytes()
    assert main(argv) == 0
    assert (out / "data-classes.svg").read_bytes() == first  # no timestamp in the pictures


def test_report_bad_input_is_one_line_exit_2(tmp_path, capsys):
    assert main(["report", "--workspace", str(tmp_path / "none"), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "workbench init" in err[0]


def test_report_output_that_is_a_file_is_refused(sample_ws, tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["report", "--workspace", str(sample_ws), "-o", str(a_file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(a_file) in err[0] and "not a directory" in err[0]
    assert a_file.read_text() == "x"


def test_report_subprocess_help_and_missing_output(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "report", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--format" in proc.stdout and "no drill yet" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "report"], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2 and "-o" in proc.stderr and "Traceback" not in proc.stderr
