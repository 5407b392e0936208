import subprocess
import sys

from workbench.cli import main


def exit_code(argv: list[str]) -> int | str | None:
    """What the command exits with, whether ``main`` returns it or argparse raises it."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_help_exits_zero(capsys):
    assert exit_code(["--help"]) == 0
    assert "static API keys" in capsys.readouterr().out


def test_python_m_workbench_runs_in_a_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("workbench ")


def test_unknown_command_is_a_usage_error(capsys):
    assert exit_code(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err
    assert "Traceback" not in err
