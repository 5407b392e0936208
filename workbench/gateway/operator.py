"""An operator's running nginx or HAProxy, driven through the one file the workbench owns.

The operator's own main config includes the owned file (nginx: ``include FILE;`` inside
``http {}``; HAProxy: one more ``-f FILE``). The workbench renders that file from the
inventory's ``gateways:`` entry and the modes it keeps in ``FILE.state.json`` (no secrets);
key material goes to 0600 files in ``FILE.keys/`` (0700): nginx gets the values of keys it
checks (it cannot hash), HAProxy only their SHA-256; the value of a key the backend checks
goes to a map the edge uses to present it upstream for an authorised certificate. Mode
``mtls+token`` (HAProxy only): the entry's ``authorization_server`` keys are copied there too
and the frontend checks bound tokens itself (:mod:`workbench.gateway.boundtoken`).

A change is all-or-nothing: the owned files are written atomically with the previous ones
kept, the ``validate`` argv runs, the ``reload`` argv runs, and the running gateway must
answer the new config id on ``/__gateway/config`` before ``commit`` (the audit) runs. If any
step fails, or a binary is missing, the previous files are restored and reloaded, and a
GatewayError names the command and its error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import GatewayError
from workbench.gateway.handle import AppliedChange, Commit
from workbench.gateway.proc import fetch_config_id
from workbench.secrets import child_environ
from workbench.states import GatewayMode
from workbench.workspace.atomic import atomic_write
from workbench.workspace.paths import ensure_private_dir

__all__ = ["OperatorGateway"]

CONFIRM_TIMEOUT = 15.0
CONFIRM_STREAK = 3
"""Consecutive answers with the new id: a connection may still land on an old worker."""
CONFIRM_SETTLE = 0.3
"""Seconds over which every answer, from the first with the new id on, must carry it: a
reload is asynchronous (nginx's old worker, HAProxy's old process keep accepting until they
handle the stop) and a busy machine stretches that window past a few quick answers."""
_SAFE = re.compile(r"^[A-Za-z0-9_./@+:-]+$")


@dataclass(frozen=True)
class _Route:
    api_id: str
    mode: str
    keys: tuple[str, ...]
    extra: tuple[str, ...] = ()
    """Identities authorised beyond the inventory's consumers (a drill's canary, for the
    length of the drill): kept in the state file so a mode change in between keeps them."""


class OperatorGateway:
    """kind ``nginx`` or ``haproxy``: see the module doc."""

    def __init__(self, campaign: Any, config: Any) -> None:
        if config is None:
            raise GatewayError("an nginx or haproxy gateway needs its inventory entry")
        self.campaign = campaign
        self.cfg = config
        self.kind = config.kind
        self.id = config.id
        base = (
            Path(campaign.inventory.source).resolve().parent
            if campaign.inventory.source
            else Path.cwd()
        )
        self.base = base
        self.config_path = (base / config.config).resolve()
        self.keys_dir = self.config_path.with_name(self.config_path.name + ".keys")
        self.state_path = self.config_path.with_name(self.config_path.name + ".state.json")
        self.var = "wb_" + re.sub(r"[^a-z0-9]", "_", self.id.lower())

    # ---- state (no secrets)
    def _state(self) -> dict[str, _Route]:
        try:
            data = json.loads(self.state_path.read_text())
            return {
                a: _Route(a, r["mode"], tuple(r["keys"]), tuple(r.get("extra", ())))
                for a, r in data["routes"].items()
            }
        except (OSError, ValueError, KeyError, TypeError):
            inv = self.campaign.inventory
            return {
                a: _Route(a, GatewayMode.KEY, tuple(k.id for k in inv.keys if k.api == a))
                for a in self.cfg.apis
            }

    def current_mode(self, api_id: str) -> str:
        return self._state()[api_id].mode

    def access_log(self) -> Path:
        return (self.base / self.cfg.access_log).resolve()

    def token_endpoint(self) -> str:
        from workbench.gateway.boundtoken import token_endpoint_of

        return token_endpoint_of(self.cfg)

    def token_server_ca(self) -> Path | None:
        server = self.cfg.authorization_server
        return (self.base / server.ca).resolve() if server and server.ca else None

    def token_events_log(self) -> Path | None:
        return None

    # ---- rendering
    def _tls(self) -> tuple[str, str]:
        if self.cfg.server_cert:
            return str((self.base / self.cfg.server_cert).resolve()), str(
                (self.base / self.cfg.server_key).resolve()
            )
        from workbench.migration.issuance import GATEWAY_SERVICE, issue_gateway_certificate

        ws = self.campaign.workspace
        found = ws.active_in_slot(None, GATEWAY_SERVICE, "server")
        rec = found[0] if found and found[0].key_path else None
        if rec is None:
            host = self.cfg.listen.rsplit(":", 1)[0]
            ips = (host,) if re.match(r"^[0-9.]+$", host) else ()
            rec = issue_gateway_certificate(
                self.campaign, hosts=("localhost",), ips=ips or ("127.0.0.1",)
            )
        return str(ws.directory / (rec.chain_path or rec.cert_path)), str(
            ws.directory / rec.key_path
        )

    def _render(self, routes: dict[str, _Route]) -> tuple[bytes, dict[Path, bytes], str]:
        """(owned config, {key file: content}, config id)."""
        import jinja2

        from workbench.gateway.authz import check_key_value
        from workbench.gateway.boundtoken import route_audience, token_settings
        from workbench.gateway.pyref import AEAD_CIPHERS
        from workbench.gateway.spec import (
            allowed_identities_for,
            api_path_prefix,
            service_of_identity,
        )
        from workbench.secrets import resolve_secret_ref

        inv = self.campaign.inventory
        td = self.campaign.trust_domain
        server_cert, server_key = self._tls()
        files: dict[Path, bytes] = {}
        token: dict | None = None
        ctx_routes = []
        for n, api_id in enumerate(self.cfg.apis, 1):
            route = routes[api_id]
            api = inv.api(api_id)
            keys = [k for k in inv.keys if k.api == api_id]
            checked = {k.checked_by for k in keys} or {"gateway"}
            if len(checked) > 1:
                raise GatewayError(
                    f"API {api_id}: some keys are checked_by gateway and some by backend: "
                    "one API, one checker (split the API or align checked_by)"
                )
            checked_by = checked.pop()
            headers = {k.header for k in keys} or {"X-API-Key"}
            if len(headers) > 1:
                raise GatewayError(f"API {api_id}: keys use several headers {sorted(headers)}")
            header = headers.pop()
            audience = None
            if route.mode == GatewayMode.MTLS_TOKEN:
                token = token or token_settings(self.cfg, self.base, self.keys_dir, files)
                audience = route_audience(api.url, f"gateway {self.id}: API {api_id}")
            values = {}
            for k in keys:
                if not k.secret_ref:
                    raise GatewayError(f"key {k.id} has no secret_ref: the gateway needs its value")
                secret = resolve_secret_ref(k.secret_ref, self.base)
                check_key_value(secret.reveal(), f"key {k.id} ({k.secret_ref})")
                values[k.id] = secret
            idents = tuple(dict.fromkeys((*allowed_identities_for(inv, api_id, td), *route.extra)))
            cn_map = {service_of_identity(i): i for i in idents}
            key_map = self.keys_dir / f"{api_id}.keys"
            accepted = [values[k] for k in route.keys if k in values]
            if self.kind == "nginx":
                body = "".join(f'"{s.reveal()}" "{s.fingerprint}";\n' for s in accepted)
            else:
                body = "".join(
                    f"{hashlib.sha256(s.reveal().encode()).hexdigest()} {s.fingerprint}\n"
                    for s in accepted
                )
            files[key_map] = body.encode()
            upstream_key_map = None
            if checked_by == "backend" and route.mode != GatewayMode.KEY and values:
                upstream_key_map = self.keys_dir / f"{api_id}.upstream"
                first = next(iter(values.values()))
                line = (
                    f'cert "{first.reveal()}";\n'
                    if self.kind == "nginx"
                    else f"{api_id} {first.reveal()}\n"
                )
                files[upstream_key_map] = line.encode()
            cn_file = self.keys_dir / f"{api_id}.cns"
            files[cn_file] = "".join(f"{cn} {i}\n" for cn, i in sorted(cn_map.items())).encode()
            upstream = self.cfg.upstream(api_id)
            u = urlsplit(upstream)
            prefix = api_path_prefix(api.url)
            ctx_routes.append(
                {
                    "n": n,
                    "api_id": api_id,
                    "mode": route.mode,
                    "checked_by": checked_by,
                    "key_header": header,
                    "header_var": "$http_" + header.lower().replace("-", "_"),
                    "key_map": str(key_map),
                    "cn_map": str(cn_file),
                    "upstream_key_map": str(upstream_key_map) if upstream_key_map else None,
                    "cn_pairs": sorted(cn_map.items()),
                    "allowed_cns": sorted(cn_map),
                    "path_prefix": prefix,
                    "path_prefix_slash": prefix.rstrip("/") + "/",
                    "prefix_re": "" if prefix == "/" else re.sub(r"\.", "[.]", prefix),
                    "upstream": upstream,
                    "upstream_hostport": f"{u.hostname}:{u.port}",
                    "upstream_host": u.hostname,
                    "upstream_tls": u.scheme == "https",
                    "audience": audience,
                }
            )
        crl = self.campaign.crl_dir / "crl.pem"
        ctx = {
            "gid": self.id,
            "v": self.var,
            "config_path": str(self.config_path),
            "keys_dir": str(self.keys_dir),
            "listen": self.cfg.listen,
            "server_cert": server_cert,
            "server_key": server_key,
            "server_pem": str(self.keys_dir / "server.pem"),
            "client_ca_bundle": str((self.campaign.ca_dir / "chain.pem").resolve()),
            "crl_file": str(crl.resolve()) if crl.exists() else None,
            "ciphers": AEAD_CIPHERS,
            "access_log": str(self.access_log()),
            "routes": [dict(r) for r in ctx_routes],
            "token": token,
        }
        for name in (
            "config_path",
            "keys_dir",
            "server_cert",
            "server_key",
            "client_ca_bundle",
            "access_log",
        ):
            if not _SAFE.match(ctx[name]):
                raise GatewayError(
                    f"gateway {self.id}: {name} {ctx[name]!r} has characters a config cannot carry"
                )
        if self.kind == "haproxy":
            # HAProxy wants the chain and its key in one file: 0600, beside the key maps.
            files[self.keys_dir / "server.pem"] = (
                Path(server_cert).read_bytes() + Path(server_key).read_bytes()
            )
        for r in ctx["routes"]:
            r["cn_map"] = r["cn_map"] if self.kind == "haproxy" else r["cn_pairs"]
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("workbench.gateway", "templates"),
            autoescape=False,  # noqa: S701 - gateway config, not HTML; inputs are validated
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        name = "operator-nginx.conf.j2" if self.kind == "nginx" else "operator-haproxy.cfg.j2"
        template = env.get_template(name)
        digest = hashlib.sha256(template.render(config_id="", **ctx).encode())
        for path, data in sorted(files.items()):
            digest.update(str(path).encode() + b"\0" + hashlib.sha256(data).digest())
        if crl.exists():  # a new CRL is a new config: the confirmation proves the reload
            digest.update(hashlib.sha256(crl.read_bytes()).digest())
        config_id = digest.hexdigest()
        return template.render(config_id=config_id, **ctx).encode(), files, config_id

    # ---- applying
    def _secret_vars(self) -> tuple[str, ...]:
        return tuple(
            k.secret_ref[4:]
            for k in self.campaign.inventory.keys
            if k.secret_ref and k.secret_ref.startswith("env:")
        )

    def _run(self, argv: tuple[str, ...], what: str) -> None:
        if not argv:
            return
        try:
            proc = subprocess.run(
                list(argv),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=child_environ(drop=self._secret_vars()),
            )
        except FileNotFoundError:
            raise GatewayError(
                f"{what} command {argv[0]!r} not found: install it or fix {what} in the inventory"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GatewayError(f"{what} command `{' '.join(argv)}` failed: {exc}") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
            worst = [ln for ln in lines if "emerg" in ln or "ALERT" in ln or "rror" in ln]
            detail = (worst or lines or ["no output"])[0][:300]
            raise GatewayError(
                f"{what} command `{' '.join(argv)}` exited {proc.returncode}: {detail}"
            )

    def _snapshot(self, paths: list[Path]) -> dict[Path, bytes | None]:
        return {p: (p.read_bytes() if p.exists() else None) for p in paths}

    def _write_all(
        self, config: bytes, files: dict[Path, bytes], saved: dict[Path, bytes | None]
    ) -> None:
        """Durable atomic writes of what changed only: a mode change touches one route's
        map, and an fsync per unchanged file (hundreds of APIs) would dominate the change."""
        ensure_private_dir(self.keys_dir)
        for path, data in files.items():
            if saved.get(path) != data:
                atomic_write(path, data, mode=0o600)
        atomic_write(self.config_path, config, mode=0o600)

    def _restore(self, saved: dict[Path, bytes | None]) -> None:
        for path, data in saved.items():
            if data is None:
                path.unlink(missing_ok=True)
            elif not path.exists() or path.read_bytes() != data:
                atomic_write(path, data, mode=0o600)

    def _confirm(self, config_id: str) -> None:
        host, port = self.cfg.listen.rsplit(":", 1)
        host = host.strip("[]")
        server_cert, _ = self._tls()
        deadline = time.monotonic() + CONFIRM_TIMEOUT
        streak = 0
        since = 0.0
        last = None
        while (now := time.monotonic()) < deadline:
            last = fetch_config_id(host, int(port), server_cert, timeout=2.0)
            if last != config_id:
                streak = 0
            else:
                since = since if streak else now
                streak += 1
                if streak >= CONFIRM_STREAK and time.monotonic() - since >= CONFIRM_SETTLE:
                    return
            time.sleep(0.02)  # polling interval while the reload takes effect
        raise GatewayError(
            f"gateway {self.id} did not confirm the new config within {CONFIRM_TIMEOUT:g} s "
            f"(it answers {last[:12] if last else 'nothing'} on {self.cfg.listen}): is the "
            f"reload command right and the file included?"
        )

    def apply_routes(self, routes: dict[str, _Route], commit: Commit | None = None) -> str:
        """Render, write (previous kept), validate, reload, confirm, commit; undo on failure.

        Returns the SHA-256 of the owned config now in force."""
        config, files, config_id = self._render(routes)
        state = json.dumps(
            {"routes": {a: _route_state(r) for a, r in routes.items()}},
            indent=1,
            sort_keys=True,
        ).encode()
        saved = self._snapshot([self.config_path, self.state_path, *files])
        old_files = list(self.keys_dir.glob("*")) if self.keys_dir.exists() else []
        saved.update(self._snapshot([p for p in old_files if p not in saved]))
        reloaded = False
        try:
            self._write_all(config, files, saved)
            self._run(self.cfg.validate, "validate")
            reloaded = True
            self._run(self.cfg.reload, "reload")
            self._confirm(config_id)
            atomic_write(self.state_path, state, mode=0o644)
            if commit is not None:
                commit(hashlib.sha256(config).hexdigest())
        except BaseException:
            self._restore(saved)
            if reloaded:
                # The first error is the one to report; the files are restored either way.
                with contextlib.suppress(GatewayError):
                    self._run(self.cfg.reload, "reload")
            raise
        return hashlib.sha256(config).hexdigest()

    def change_route(
        self, api_id: str, mode: str, key_ids: tuple[str, ...], *, commit: Commit
    ) -> AppliedChange:
        routes = self._state()
        before = routes[api_id].mode
        routes[api_id] = _Route(api_id, mode, tuple(key_ids), routes[api_id].extra)
        sha = self.apply_routes(routes, commit)
        return AppliedChange(api_id, before, mode, sha)

    def push_crls(self) -> None:
        """Re-render with the current CRL and reload (validate first); unchanged on failure."""
        self.apply_routes(self._state())

    # ---- extra identities (the canary drill)
    def set_extra_identities(self, api_ids, change) -> str:
        """``change(extra) -> extra`` on the routes of ``api_ids``, applied like a mode change
        (all-or-nothing); returns the owned config's SHA-256 ("" when nothing changed)."""
        routes = self._state()
        new = dict(routes)
        for api_id in api_ids:
            r = routes[api_id]
            new[api_id] = _Route(api_id, r.mode, r.keys, tuple(change(r.extra)))
        return "" if new == routes else self.apply_routes(new)

    def identity_in_config(self, identity: str) -> dict[str, list[str]]:
        """Where the owned files name ``identity`` (or its CN), read from the files
        themselves, not from the state: ``{api or "config": [file, ...]}``."""
        from workbench.gateway.spec import service_of_identity

        word = re.compile(
            rf"(?<![A-Za-z0-9._/-])({re.escape(identity)}|{re.escape(service_of_identity(identity))})"
            r"(?![A-Za-z0-9._/-])"
        )
        found: dict[str, list[str]] = {}
        files = [("config", self.config_path)]
        files += [(a, self.keys_dir / f"{a}.cns") for a in self.cfg.apis]
        for where, path in files:
            with contextlib.suppress(OSError):
                if word.search(path.read_text()):
                    found.setdefault(where, []).append(str(path))
        return found


def _route_state(r: _Route) -> dict:
    out: dict = {"mode": r.mode, "keys": list(r.keys)}
    if r.extra:
        out["extra"] = list(r.extra)
    return out
