"""The product's gateways: one spec, the kinds the workbench drives, one handle interface.

- :mod:`.handle`: the interface the migration layer drives (any kind), and kind registration.
- :mod:`.operator`: an operator's running nginx or HAProxy (one owned, included file).
- :mod:`.manual`: a gateway a person changes, from written instructions.
- :mod:`.spec`: what a gateway enforces (routes, modes, TLS material), pure data.
- :mod:`.authz`: the per-request decision table every gateway implements.
- :mod:`.pyref`: the stdlib reference gateway (``python -m workbench.gateway.pyref``).
- :mod:`.nginx`: the nginx renderer of a whole spec (jinja2 template, ``nginx -t``).
- :mod:`.adapter`: render / validate / apply / start / stop / set_mode of an embedded gateway.
- :mod:`.usage`: reading the shared JSON Lines access log.

Identity rule (all gateways): a verified client certificate is authorised for a route when
its subject CN is the service name of one of the route's allowed SPIFFE ids; the Python
gateway also requires the URI SAN to equal that SPIFFE id. nginx exposes no SAN variable,
and the client CA bundle is the trust boundary that keeps CNs unique.

Names are imported lazily so that plugging a kind in (:func:`.handle.register_kind`) stays
cheap for a CLI start.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "GATEWAYS": "workbench.gateway.adapter",
    "GatewayAdapter": "workbench.gateway.adapter",
    "NginxGateway": "workbench.gateway.adapter",
    "PythonGateway": "workbench.gateway.adapter",
    "load_gateway": "workbench.gateway.adapter",
    "make_gateway": "workbench.gateway.adapter",
    "MODES": "workbench.gateway.spec",
    "GatewaySpec": "workbench.gateway.spec",
    "RenderedConfig": "workbench.gateway.spec",
    "Route": "workbench.gateway.spec",
    "spec_from_inventory": "workbench.gateway.spec",
    "UsageReport": "workbench.gateway.usage",
    "read_usage": "workbench.gateway.usage",
    "GatewayHandle": "workbench.gateway.handle",
    "register_kind": "workbench.gateway.handle",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.gateway' has no attribute {name!r}")
    return getattr(import_module(module), name)
