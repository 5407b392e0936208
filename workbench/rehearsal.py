"""Rehearse a migration on the lab: a real workspace with real verdicts, for the notebooks.

A front end like the demo: every operation is a `workbench` command run in-process
(``workbench.cli.main``), so the rehearsal follows whatever the CLI does. The inventory is
copied into the rehearsal directory first, with every API moved onto one free loopback port
and every key's value in a file the lab generates, so any valid inventory can be rehearsed
without touching the original, its keys, or a port another run uses.

    import workbench as wb
    ws = wb.rehearse()                      # the sample company, wave 1
    ws = wb.rehearse("my-inventory.yaml", waves=2)
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.states import StepState

__all__ = ["REHEARSAL_PASSPHRASE", "rehearse", "sample_inventory_path"]

# A rehearsal's CA guards nothing real: a fixed passphrase lets a person re-open the
# workspace afterwards (`workbench status --workspace ...`) without a prompt.
REHEARSAL_PASSPHRASE = "rehearsal-only-passphrase"  # noqa: S105 - not a secret: a throwaway CA

_PACKAGE = Path(__file__).resolve().parent
START_ATTEMPTS = 3


def sample_inventory_path() -> Path:
    """The sample company's inventory, wherever this package is installed from a checkout."""
    candidates = (
        _PACKAGE.parent / "sample_env" / "inventory.yaml",  # a checkout (editable install)
        _PACKAGE / "lab" / "sample" / "inventory.yaml",  # if the lab ever ships it as data
        _PACKAGE / "lab" / "inventory.yaml",
    )
    for path in candidates:
        if path.is_file():
            return path
    raise WorkbenchError(
        f"the sample inventory is not installed (looked in {', '.join(map(str, candidates))}): "
        "pass your own inventory file"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_inventory(source: Path, directory: Path, port: int) -> Path:
    """Write ``source`` into ``directory`` as the lab will serve it; returns the new file."""
    from workbench.inventory import dump_inventory, load_inventory

    inv = load_inventory(source)
    # The lab's backend answers GET /<api>/health for every API it serves.
    apis = tuple(
        dataclasses.replace(
            a, url=f"https://127.0.0.1:{port}/{a.id}", health_path="/health", location=None
        )
        for a in inv.apis
    )
    keys = tuple(
        dataclasses.replace(k, secret_ref=f"file:state/keys/{k.id}.key", location=None)
        for k in inv.keys
    )
    lab = dataclasses.replace(inv, apis=apis, keys=keys, source=None)
    if getattr(lab, "gateways", None):
        lab = dataclasses.replace(lab, gateways=())  # the lab is the only gateway here
    path = directory / "inventory.yaml"
    path.write_text(dump_inventory(lab))
    return path


@contextlib.contextmanager
def _passphrase() -> Iterator[None]:
    name = "WORKBENCH_CA_PASSPHRASE"
    old = os.environ.get(name)
    os.environ[name] = REHEARSAL_PASSPHRASE
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def rehearse(
    inventory: str | os.PathLike[str] | None = None,
    directory: str | os.PathLike[str] | None = None,
    *,
    waves: int = 1,
    gateway: str = "python",
    drill: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Take the first ``waves`` waves of ``inventory`` through a real migration on the lab.

    Returns the workspace directory (``DIRECTORY/workspace``). Per wave: certificates, the
    gateways in dual, consumers calling with the old key and then with their certificates,
    cut-over with verification; the first single-key API of the first wave is also moved to
    ``mtls+token``, and the wave's last step is cut over with the old key left enabled (a
    FAIL, rolled back), so a review has every kind of result to show. The lab is stopped
    before returning, whatever happens. With ``drill``, a canary revocation drill runs last
    (`workbench drill canary`), so a program report has time-to-refusal figures.
    """
    kwargs = {"waves": waves, "gateway": gateway, "drill": drill, "progress": progress}
    if _loop_running():
        # In a Jupyter kernel an event loop runs in this thread, and the verifier starts its
        # own (asyncio.run): rehearse in a worker thread and wait for it.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rehearsal") as pool:
            return pool.submit(_rehearse, inventory, directory, **kwargs).result()
    return _rehearse(inventory, directory, **kwargs)


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _rehearse(
    inventory: str | os.PathLike[str] | None,
    directory: str | os.PathLike[str] | None,
    *,
    waves: int,
    gateway: str,
    drill: bool,
    progress: Callable[[str], None] | None,
) -> Path:
    from workbench.cli import main as workbench

    say = progress or (lambda _msg: None)
    source = Path(inventory) if inventory is not None else sample_inventory_path()
    root = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="rehearsal-"))
    root.mkdir(parents=True, exist_ok=True)
    ws = root / "workspace"
    ws_args = ["--workspace", str(ws)]
    quiet = io.StringIO()

    def run(*argv: str, ok: tuple[int, ...] = (0,)) -> int:
        err = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(err):
            code = workbench([*argv, *ws_args])
        detail = err.getvalue().strip().splitlines()
        if code not in ok:
            raise WorkbenchError(
                f"rehearsal: `workbench {' '.join(argv)}` exited {code}"
                + (f": {detail[-1]}" if detail else "")
            )
        if code and detail:
            say(f"`workbench {' '.join(argv)}` exited {code}: {detail[-1]}")
        return code

    from workbench.migration import open_campaign

    with _passphrase():
        for attempt in range(1, START_ATTEMPTS + 1):
            lab_file = lab_inventory(source, root, _free_port())
            say(f"workspace {ws}")
            run("init", str(lab_file))
            with open_campaign(ws) as campaign:
                plan_waves = sorted({s.wave for s in campaign.workspace.steps()})
            if not plan_waves:
                say("nothing to rehearse: the inventory has no keys")
                return ws
            say("starting the lab (gateway, backend, token server)")
            try:
                run("sample-env", "up", "--gateway", gateway)
                break
            except WorkbenchError:
                # Another process can take the free port between choosing it and the lab
                # binding it (test runs share machines): start over on another port.
                run("sample-env", "down", ok=(0, 1, 2))
                if attempt == START_ATTEMPTS:
                    raise
                say("the lab did not start; starting over on another port")
                shutil.rmtree(ws, ignore_errors=True)
                shutil.rmtree(root / "state", ignore_errors=True)
                lab_file.unlink(missing_ok=True)
        try:
            for number in plan_waves[:waves]:
                _wave(number, ws, run, say, first=number == plan_waves[0])
            if drill:
                say("a canary revocation drill: time to refusal at every entry point")
                run("drill", "canary", ok=(0, 1, 2))
        finally:
            run("sample-env", "down")
    return ws


def _wave(number: int, ws: Path, run, say, *, first: bool) -> None:  # noqa: ANN001
    from workbench.migration import open_campaign

    consumer_calls = _consumer_calls()

    with open_campaign(ws) as campaign:
        inv = campaign.inventory
        # A key nobody uses is only revoked (no certificate to prove a cut-over with).
        steps = [k for k in campaign.wave_steps(number) if inv.consumers_of(k)]
    say(f"wave {number}: {len(steps)} step(s) with consumers")
    if not steps:
        return
    # From here on a refusal (exit 2) is part of what the review shows, not the end of it.
    review_all = (0, 1, 2)

    def calls(campaign, key: str, how: str) -> None:  # noqa: ANN001
        try:
            consumer_calls(campaign, key, how)
        except WorkbenchError as exc:
            say(f"{key}: consumers calling with {how} failed: {exc}")

    run("issue", "--wave", str(number), ok=review_all)
    with open_campaign(ws) as campaign:
        for key in steps:
            run("gateway", "set-mode", "dual", "--step", key, ok=review_all)
            calls(campaign, key, "key")
    # Access logs count whole seconds: the quiet window starts after every old-key call.
    switched = (datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)).isoformat()
    with open_campaign(ws) as campaign:
        for key in steps:
            calls(campaign, key, "cert")
    broken = steps[-1] if first and len(steps) > 1 else None
    for key in steps:
        if key == broken:
            continue
        # Not PASS (1) is a result to review; 2 is a refusal to start (e.g. no consumer
        # certificate in the API's environment, req. 18): also a result, said and kept.
        run("cutover", "--step", key, "--since", switched, ok=review_all)
    if not first:
        return
    with open_campaign(ws) as campaign:
        inv = campaign.inventory
        verified = {s.key for s in campaign.workspace.steps(wave=number, state=StepState.VERIFIED)}
        single = [
            k
            for k in steps
            if k in verified and sum(1 for x in inv.keys if x.api == inv.key(k).api) == 1
        ]
    if single:
        say(f"{single[0]}: mtls+token")
        if (
            run("gateway", "set-mode", "mtls+token", "--step", single[0], "--force", ok=review_all)
            == 0
        ):
            with open_campaign(ws) as campaign:
                calls(campaign, single[0], "cert+token")
            run("verify", "--step", single[0], ok=review_all)
    if broken:
        say(f"{broken}: a broken change (old key left enabled), caught and rolled back")
        run(
            "cutover",
            "--step",
            broken,
            "--since",
            switched,
            "--simulate-fault",
            "old-key-left-enabled",
            ok=review_all,
        )


def _consumer_calls():  # noqa: ANN202
    """The lab's simulated consumers (their module moves with the lab; either place works)."""
    try:
        from workbench.lab.traffic import consumer_calls
    except ImportError:
        from workbench.migration.traffic import consumer_calls  # type: ignore[no-redef]
    return consumer_calls
