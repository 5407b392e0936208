"""Shared fixtures for the PKI tests: one CA per session (low KDF rounds), helpers that
write chains to files, and a real TLS handshake against a stdlib ``ssl`` server."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from workbench.pki import IssuedCertificate, LocalCA

PASSPHRASE = "correct horse battery staple"
TEST_KDF_ROUNDS = 2
# CAs are made a year in the past so expired leaves (issued "30 days ago") fit inside them.
CA_BIRTH = datetime.now(UTC) - timedelta(days=365)


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    d = tmp_path_factory.mktemp("ca") / "ca"
    return LocalCA.create(
        d, trust_domain="acme.test", passphrase=PASSPHRASE, now=CA_BIRTH, kdf_rounds=TEST_KDF_ROUNDS
    )


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    d = tmp_path_factory.mktemp("other") / "ca"
    return LocalCA.create(
        d, trust_domain="acme.test", passphrase=PASSPHRASE, now=CA_BIRTH, kdf_rounds=TEST_KDF_ROUNDS
    )


@dataclass(frozen=True)
class LeafFiles:
    """A leaf written out the way a client would use it."""

    cert: Path
    key: Path
    chain: Path  # leaf + intermediate, what the client presents
    intermediate: Path
    root: Path


def write_leaf(directory: Path, name: str, issued: IssuedCertificate, issuer: LocalCA) -> LeafFiles:
    directory.mkdir(parents=True, exist_ok=True)
    cert = directory / f"{name}.crt"
    key = directory / f"{name}.key"
    chain = directory / f"{name}.chain.pem"
    cert.write_bytes(issued.pem)
    key.write_bytes(issued.private_key_pem())
    chain.write_bytes(issued.pem + issuer.intermediate_cert.public_bytes(_PEM))
    return LeafFiles(
        cert, key, chain, issuer.directory / "intermediate.crt", issuer.directory / "root.crt"
    )


_PEM = Encoding.PEM


@pytest.fixture(scope="session")
def leaf_writer(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("leaves")
    return lambda name, issued, issuer: write_leaf(base, name, issued, issuer)


@pytest.fixture(scope="session")
def server_files(ca: LocalCA, leaf_writer) -> LeafFiles:
    return leaf_writer("server", ca.issue_server(), ca)


@dataclass
class Handshake:
    """What each side of one mTLS handshake saw."""

    accepted: bool
    server_error: BaseException | None
    client_error: BaseException | None

    @property
    def server_reason(self) -> str:
        e = self.server_error
        return f"{getattr(e, 'reason', '')} {getattr(e, 'verify_message', '')}".strip()


def tls_handshake(
    *, root: Path, server: LeafFiles, client: LeafFiles, crl_file: Path | None = None
) -> Handshake:
    """One mTLS handshake: a stdlib ssl server on 127.0.0.1 (free port, thread) trusting only
    ``root`` with CERT_REQUIRED + VERIFY_X509_STRICT (+ CRL_CHECK_CHAIN with ``crl_file``)."""
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.minimum_version = ssl.TLSVersion.TLSv1_2
    sctx.load_cert_chain(server.chain, server.key)
    sctx.verify_mode = ssl.CERT_REQUIRED
    sctx.load_verify_locations(cafile=root)
    sctx.verify_flags |= ssl.VERIFY_X509_STRICT
    if crl_file is not None:
        sctx.load_verify_locations(cafile=crl_file)
        sctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(cafile=server.root)
    cctx.load_cert_chain(client.chain, client.key)

    outcome: dict[str, object] = {}
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError as exc:
            outcome["error"] = exc
            return
        conn.settimeout(10)
        try:
            with sctx.wrap_socket(conn, server_side=True) as tls:
                outcome["peer"] = tls.getpeercert(binary_form=True)
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            outcome["error"] = exc
        finally:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_error: BaseException | None = None
    data = b""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            cctx.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            data = tls.recv(2)
    except (ssl.SSLError, OSError) as exc:
        client_error = exc
    finally:
        thread.join(15)
        listener.close()
    assert not thread.is_alive(), "server thread did not finish"
    accepted = "peer" in outcome and data == b"ok"
    return Handshake(accepted, outcome.get("error"), client_error)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def handshake():
    return tls_handshake
