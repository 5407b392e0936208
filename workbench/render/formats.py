"""The formats ``workbench render`` writes: one row each, templates in ``templates/``.

A format is a name a user types (``--formats httpx,curl``) and the files it produces. Client
formats are rendered once per consumer of a step; gateway formats once for the step's API,
possibly one file per phase (``dual`` = overlap, both credentials accepted; ``mtls`` =
cut-over, certificate required).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ConfigRenderError
from workbench.states import GatewayMode

__all__ = ["FORMATS", "Format", "Output", "parse_formats"]


@dataclass(frozen=True)
class Output:
    """One file a format writes."""

    filename: str
    """File name inside the subject's directory."""
    template: str | None
    """jinja2 template in ``templates/``; None for files built in code (a truststore)."""
    mode: int = 0o644
    """File mode; 0o600 for anything holding private key material."""
    phase: str | None = None
    """Gateway phase (``dual`` or ``mtls``) for gateway files, else None."""
    secret: bool = False
    """True when the file holds private key material (the Kubernetes Secret only)."""


@dataclass(frozen=True)
class Format:
    """A config format and the files it produces."""

    name: str
    """What ``--formats`` accepts."""
    kind: str
    """``client`` (one set per consumer) or ``gateway`` (one set per API)."""
    description: str
    """One line for ``--formats list``."""
    outputs: tuple[Output, ...]
    """The files written."""


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("httpx", "client", "Python httpx script (ssl.SSLContext passed as verify=)",
               (Output("httpx_client.py", "httpx_client.py.j2"),)),
        Format("requests", "client", "Python requests script (cert=(chain, key), verify=ca)",
               (Output("requests_client.py", "requests_client.py.j2"),)),
        Format("curl", "client", "curl config file for `curl -K FILE`",
               (Output("curl.config", "curl.config.j2"),)),
        Format("java", "client",
               "JVM flags (JAVA_TOOL_OPTIONS) + PKCS#12 truststore with the CA root",
               (Output("java-tls.sh", "java-tls.sh.j2"), Output("truststore.p12", None))),
        Format("node", "client", "Node.js module exporting an https.Agent",
               (Output("node-agent.js", "node-agent.js.j2"),)),
        Format("go", "client", "Go tls.Config (LoadX509KeyPair + RootCAs)",
               (Output("tls_config.go", "tls_config.go.j2"),)),
        Format("env", "client", "environment file of paths (WORKBENCH_CLIENT_CERT=...)",
               (Output("client.env", "client.env.j2"),)),
        Format("k8s-secret", "client",
               "Kubernetes kubernetes.io/tls Secret (CONTAINS THE PRIVATE KEY, 0600)",
               (Output("k8s-secret.yaml", "k8s-secret.yaml.j2", 0o600, secret=True),)),
        Format("cert-manager", "client", "cert-manager Certificate (cert-manager.io/v1)",
               (Output("cert-manager.yaml", "cert-manager.yaml.j2"),)),
        Format("nginx-egress", "client", "nginx location block proxying to the API with the cert",
               (Output("nginx-egress.conf", "nginx-egress.conf.j2"),)),
        Format("nginx-gateway", "gateway",
               "nginx server blocks for the dual phase and the mtls cut-over",
               (Output("nginx-dual.conf", "nginx-gateway.conf.j2", phase=GatewayMode.DUAL),
                Output("nginx-mtls.conf", "nginx-gateway.conf.j2", phase=GatewayMode.MTLS))),
        Format("haproxy", "gateway", "HAProxy frontend requiring client certificates (mtls)",
               (Output("haproxy.cfg", "haproxy.cfg.j2", phase=GatewayMode.MTLS),)),
        Format("istio", "gateway",
               "Istio PeerAuthentication (PERMISSIVE for dual, STRICT at cut-over)",
               (Output("istio-dual.yaml", "istio.yaml.j2", phase=GatewayMode.DUAL),
                Output("istio-mtls.yaml", "istio.yaml.j2", phase=GatewayMode.MTLS))),
    )
}  # fmt: skip


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``"httpx,curl"`` -> ``("httpx", "curl")``; None or empty -> every format."""
    if not text:
        return tuple(FORMATS)
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ConfigRenderError(
            f"unknown format(s) {', '.join(unknown) or text!r}: use {', '.join(FORMATS)}"
        )
    return names
