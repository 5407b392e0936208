"""The sample APIs' backend: a threaded stdlib HTTP server on loopback, behind the gateway.

``python -m workbench.sample_env.backend --apis a,b,c --port-file FILE [--port N]`` answers
``GET /<api>/health`` -> ``{"api": ..., "ok": true}`` and ``GET /<api>/data`` -> a fake
record. It trusts the gateway (it listens on 127.0.0.1 only) and echoes the identity the
gateway forwarded. With ``--port 0`` the kernel picks the port, written to ``--port-file``
once listening, so a parent can wait for readiness without guessing a free port.
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
    apis: frozenset[str] = frozenset()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """The gateway's access log is the record; stay quiet."""

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path).path.strip("/").split("/")
        api = parts[0] if parts else ""
        rest = "/".join(parts[1:])
        if api not in self.apis:
            return self._send(404, {"error": "no such api"})
        if rest == "health":
            return self._send(200, {"api": api, "ok": True})
        if rest == "data":
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


def make_server(apis: list[str], port: int = 0) -> ThreadingHTTPServer:
    """A server for ``apis`` on 127.0.0.1:``port`` (not started)."""
    handler = type("Handler", (_Handler,), {"apis": frozenset(apis)})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m workbench.sample_env.backend")
    p.add_argument("--apis", required=True, help="comma-separated API ids")
    p.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    p.add_argument("--port-file", type=Path, required=True, help="where to write the port")
    args = p.parse_args(argv)
    try:
        server = make_server([a for a in args.apis.split(",") if a], args.port)
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
