"""The rehearsal survives a port taken between choosing it and the lab binding it."""

import socket

from report_support import ORPHAN_ONLY, db_rows

import workbench as wb
import workbench.rehearsal as rehearsal


def test_a_taken_port_means_a_fresh_start_on_another(tmp_path, monkeypatch):
    source = tmp_path / "inventory.yaml"
    source.write_text(ORPHAN_ONLY)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    ports = [busy]
    real = rehearsal._free_port
    monkeypatch.setattr(rehearsal, "_free_port", lambda: ports.pop() if ports else real())
    said: list[str] = []
    try:
        ws = wb.rehearse(source, tmp_path / "r", progress=said.append)
    finally:
        taken.close()
    assert any("starting over on another port" in line for line in said)
    assert db_rows(ws, "SELECT count(*) FROM steps")[0][0] == 1  # one workspace, not two
    url = wb.load_inventory(tmp_path / "r" / "inventory.yaml").apis[0].url
    assert f"127.0.0.1:{busy}/" not in url  # the second start chose another port
