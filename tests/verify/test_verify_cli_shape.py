"""The exact standalone interface of issue 9: several URLs, --path, --repeat, --connect-to,
--other-cert, --user-agent, and what the report says about scope and liveness."""

from __future__ import annotations

import json

import pytest
from verify_pki import API_HOST, OLD_KEY
from verify_servers import main_sni

from workbench.cli import main


def base(pki, *urls):
    return [
        "verify", *urls, "--header", "X-API-Key", "--old-key-env", "WB_TEST_OLD_KEY",
        "--cert", str(pki.new.chain), "--key", str(pki.new.key), "--ca", str(pki.ca),
        "--timeout", "5",
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def canary_env(monkeypatch):
    monkeypatch.setenv("WB_TEST_OLD_KEY", OLD_KEY)


def _run(capsys, argv):
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_names_scope_liveness_and_run(pki, serve, capsys):
    srv = serve("correct")
    argv = [*base(pki, srv.url), "--other-cert", str(pki.other.chain),
            "--other-key", str(pki.other.key), "--repeat", "2", "--json"]  # fmt: skip
    code, out, err = _run(capsys, argv)
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "PASS"
    assert doc["liveness"]["confirmed"] is False
    assert "not confirmed as live" in doc["liveness"]["how"]
    scope = doc["scope"]
    assert scope["repeat"] == 2 and scope["methods"] == ["GET", "POST"]
    assert scope["key_beside_other_certificate"] is True
    assert scope["foreign_ca"] == "throwaway look-alike"
    assert "7 key forms (alone and beside another identity's certificate)" in scope["text"]
    assert scope["text"] in doc["reasons"][-1]  # the PASS line states the scope
    assert doc["run"]["user_agent"] == f"workbench-verify/2 run/{doc['run']['token']}"
    assert OLD_KEY not in out + err


def test_several_urls_and_paths_are_all_probed(pki, serve, capsys):
    good, bad = serve("correct"), serve("unprotected_path")
    argv = [*base(pki, good.url, bad.url), "--path", "/v1/charges", "--repeat", "1", "--json"]
    code, out, _ = _run(capsys, argv)
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "FAIL"
    assert doc["scope"]["entry_points"] == [good.url, bad.url]
    assert doc["scope"]["paths"] == ["/health", "/v1/charges"]
    failed = {p["evidence"]["url"] for p in doc["probes"] if p["outcome"] == "fail"}
    main = {p["evidence"]["url"] for p in doc["probes"] if p["outcome"] == "fail"
            and p["evidence"]["corner"] is None}  # fmt: skip
    assert main == {f"https://127.0.0.1:{bad.port}/v1/charges"}
    # Only /health is protected there: /HEALTH, /health/ ... take the key too (path corners).
    assert f"https://127.0.0.1:{bad.port}/HEALTH" in failed
    assert all(u.startswith(f"https://127.0.0.1:{bad.port}/") for u in failed)
    assert "/v1/charges" in good.log.hosts or good.log.connections > 0


def test_connect_to_pins_a_real_name_to_each_address(pki, serve, capsys):
    good = serve("correct")
    bad = serve("accept_old_key", host="::1", port=good.port)
    url = f"https://{API_HOST}:{good.port}/health"
    argv = [*base(pki, url), "--repeat", "1", "--user-agent", "ops-probe/3",
            "--connect-to", f"{API_HOST}:{good.port}:127.0.0.1",
            "--connect-to", f"{API_HOST}:{good.port}:[::1]"]  # fmt: skip
    code, out, _ = _run(capsys, argv)
    assert code == 1 and "verdict: FAIL" in out
    assert "1 entry point x 2 addresses" in out
    assert "::1" in out  # the failing address is named
    assert all(a.startswith("ops-probe/3 run/") for a in good.log.user_agents + bad.log.user_agents)
    assert main_sni(good.log) == {API_HOST} == main_sni(bad.log)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--connect-to", "api.test:443"], "--connect-to"),
        (["--connect-to", "api.test:99999:127.0.0.1"], "--connect-to"),
        (["--repeat", "0"], "--repeat"),
        (["--path", "v1/charges"], "--path"),
        (["--user-agent", "bad\tagent"], "--user-agent"),
    ],
)
def test_bad_options_are_one_line_usage_errors(pki, capsys, extra, needle):
    code, out, err = _run(capsys, [*base(pki, "https://127.0.0.1:1/health"), *extra])
    assert code == 2 and needle in err and "Traceback" not in err
    assert err.strip().count("\n") == 0
