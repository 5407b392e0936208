"""The inventory's gateways: section and keys' checked_by: exact fields, YAML and JSON alike,
and one located line per mistake."""

from __future__ import annotations

import json

import pytest
import yaml

from workbench.errors import InventoryError
from workbench.inventory.dump import dump_inventory
from workbench.inventory.loader import loads_inventory

BASE = """version: 1
apis:
  - {id: orders-api, url: "https://127.0.0.1:9443/orders", data_classes: [pii], owner: t,
     environment: prod}
  - {id: billing-api, url: "https://127.0.0.1:9443/billing", data_classes: [pci], owner: t,
     environment: prod}
services:
  - {id: shop, owner: t, environment: prod, exposure: internal}
keys:
  - {id: orders-key, api: orders-api, secret_ref: "env:ORDERS_KEY"}
  - {id: billing-key, api: billing-api, secret_ref: "env:BILLING_KEY", checked_by: backend}
integrations:
  - {consumer: shop, key: orders-key}
"""

GATEWAY = """gateways:
  - id: edge
    kind: nginx
    apis: [orders-api, billing-api]
    listen: 127.0.0.1:9443
    config: /etc/nginx/workbench/edge.conf
    validate: [nginx, -t]
    reload: [nginx, -s, reload]
    access_log: /var/log/nginx/workbench-edge.log
    upstreams: {orders-api: "http://10.0.0.5:8080", billing-api: "http://10.0.0.6:8080"}
"""


def test_gateways_and_checked_by_load_from_yaml_and_json_alike_and_round_trip():
    inv = loads_inventory(BASE + GATEWAY, "inv.yaml")
    [gw] = inv.gateways
    assert (gw.id, gw.kind, gw.apis, gw.listen) == (
        "edge", "nginx", ("orders-api", "billing-api"), "127.0.0.1:9443",
    )  # fmt: skip
    assert gw.validate == ("nginx", "-t") and gw.reload == ("nginx", "-s", "reload")
    assert gw.upstream("billing-api") == "http://10.0.0.6:8080"
    assert inv.gateway_of("orders-api") is gw
    assert [k.checked_by for k in inv.keys] == ["gateway", "backend"]
    as_json = json.dumps(yaml.safe_load(BASE + GATEWAY))
    assert loads_inventory(as_json, "inv.json") == inv
    assert loads_inventory(dump_inventory(inv), "again.yaml") == inv


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("kind: nginx", "kind: envoy"), "kind must be one of nginx, haproxy, manual, lab"),
        (("[orders-api, billing-api]", "[orders-api, nope-api]"), "unknown api nope-api"),
        (
            ('billing-api: "http://10.0.0.6:8080"', 'billing-api: "ftp://x"'),
            "upstreams.billing-api",
        ),
        (("listen: 127.0.0.1:9443", "listen: everywhere"), "listen must be host:port"),
        (("[nginx, -t]", '["nginx -t; rm -rf /"]'), "validate: each word"),
        (("    reload: [nginx, -s, reload]\n", ""), "needs reload"),
        (("edge.conf", "edge conf"), "config must be a plain path"),
    ],
)
def test_each_mistake_is_one_located_line(change, expected):
    text = BASE + GATEWAY.replace(*change)
    with pytest.raises(InventoryError) as exc:
        loads_inventory(text, "inv.yaml")
    lines = [str(p) for p in exc.value.problems]
    assert any(expected in line and line.startswith("inv.yaml:") for line in lines), lines


def test_an_api_behind_two_gateways_and_a_bad_checked_by_are_refused():
    two = GATEWAY + "  - {id: side, kind: manual, apis: [orders-api]}\n"
    with pytest.raises(InventoryError) as exc:
        loads_inventory(BASE + two, "inv.yaml")
    assert "orders-api is behind gateways edge and side" in str(exc.value.problems)
    bad = BASE.replace("checked_by: backend", "checked_by: proxy")
    with pytest.raises(InventoryError) as exc:
        loads_inventory(bad, "inv.yaml")
    assert "checked_by must be one of gateway, backend" in str(exc.value.problems)
