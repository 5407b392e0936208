"""The sample APIs' backend: a threaded stdlib HTTP server on loopback, behind the gateway.

``python -m workbench.lab.backend --apis JSON --port-file FILE [--port N]`` serves each API
(``[{"id": ..., "prefix": "/base/path", "health": "/health"}]``; a bare ``a,b`` means
``/a``, ``/b`` with ``/health``): its base path and its health path answer
``{"api": ..., "ok": true}``, ``<base>/data`` a fake record, for GET and POST. The API is
the one the gateway names in ``X-Workbench-Api``, else the longest matching base path. It
trusts the gateway (it listens on 127.0.0.1 only) and echoes the identity it forwarded.
With ``--port 0`` the kernel picks the port, written to ``--port-file`` once listening, so a
parent can wait for readiness without guessing a free port.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["make_server", "main"]


def _record(api: str) -> dict[str, Any]:
    return {"id": f"{api}-0001", "kind": "sample", "value": 42, "note": "fake data"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sample-backend"
    sys_version = ""
    apis: dict[str, tuple[str, str]] = {}
    """API id -> (base path, health path)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """The gateway's access log is the record; stay quiet."""

    def _api_for(self, path: str) -> tuple[str, str] | None:
        named = self.headers.get("X-Workbench-Api", "")
        candidates = [named] if named in self.apis else list(self.apis)
        best = None
        for api in candidates:
            base = self.apis[api][0]
            if base == "/" or path == base or path.startswith(base + "/"):
                rest = "" if base == "/" and path == "/" else path[len(base.rstrip("/")) :]
                if best is None or len(base) > len(self.apis[best[0]][0]):
                    best = (api, rest)
        return best

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        found = self._api_for(urlsplit(self.path).path)
        if found is None:
            return self._send(404, {"error": "no such api"})
        api, rest = found
        health = self.apis[api][1]
        if rest in ("", "/") or rest == health or rest == "/health":
            return self._send(200, {"api": api, "ok": True})
        if rest == "/data":
            return self._send(
                200,
                {
                    "api": api,
                    "record": _record(api),
                    "caller": self.headers.get("X-Workbench-Identity", ""),
                    "auth": self.headers.get("X-Workbench-Auth", ""),
                },
            )
        return self._send(404, {"error": "no such path", "api": api})

    def _send(self, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def parse_apis(text: str) -> dict[str, tuple[str, str]]:
    """``--apis``: a JSON list of {id, prefix, health}, or comma-separated ids."""
    if text.lstrip().startswith("["):
        return {
            a["id"]: (a.get("prefix") or f"/{a['id']}", a.get("health") or "/health")
            for a in json.loads(text)
        }
    return {a: (f"/{a}", "/health") for a in text.split(",") if a}


def make_server(apis: list[str] | dict[str, tuple[str, str]], port: int = 0) -> ThreadingHTTPServer:
    """A server for ``apis`` (ids, or id -> (base, health)) on 127.0.0.1:``port``."""
    table = apis if isinstance(apis, dict) else {a: (f"/{a}", "/health") for a in apis}
    handler = type("Handler", (_Handler,), {"apis": table})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m workbench.lab.backend")
    p.add_argument("--apis", required=True, help="JSON list of {id, prefix, health}, or ids")
    p.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    p.add_argument("--port-file", type=Path, required=True, help="where to write the port")
    args = p.parse_args(argv)
    try:
        server = make_server(parse_apis(args.apis), args.port)
    except OSError as exc:
        print(f"backend: cannot listen: {exc.strerror}", file=sys.stderr)
        return 2
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    )
    tmp = args.port_file.with_name(args.port_file.name + ".tmp")
    tmp.write_text(f"{server.server_address[1]}\n")
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
