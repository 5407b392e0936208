"""Gateways in front of the sample APIs: one spec, two implementations (Python, nginx).

- :mod:`.spec`: what a gateway enforces (routes, modes, TLS material), pure data.
- :mod:`.authz`: the per-request decision table both gateways implement.
- :mod:`.pyref`: the stdlib reference gateway (``python -m workbench.gateway.pyref``).
- :mod:`.nginx`: the nginx renderer (jinja2 template, ``nginx -t``).
- :mod:`.adapter`: render / validate / apply / start / stop / set_mode over either.
- :mod:`.usage`: reading the shared JSON Lines access log.

Identity rule (both gateways): a verified client certificate is authorised for a route when
its subject CN is the service name of one of the route's allowed SPIFFE ids; the Python
gateway also requires the URI SAN to equal that SPIFFE id. nginx exposes no SAN variable,
and the client CA bundle is the trust boundary that keeps CNs unique.
"""

from workbench.gateway.adapter import (
    GATEWAYS,
    GatewayAdapter,
    NginxGateway,
    PythonGateway,
    load_gateway,
    make_gateway,
)
from workbench.gateway.spec import MODES, GatewaySpec, RenderedConfig, Route, spec_from_inventory
from workbench.gateway.usage import UsageReport, read_usage

__all__ = [
    "GATEWAYS",
    "MODES",
    "GatewayAdapter",
    "GatewaySpec",
    "NginxGateway",
    "PythonGateway",
    "RenderedConfig",
    "Route",
    "UsageReport",
    "load_gateway",
    "make_gateway",
    "read_usage",
    "spec_from_inventory",
]
