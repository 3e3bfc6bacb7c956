"""How `oms up --cluster` wires its replicas (no process is started): each service's clients
reach both its replicas, everyone reaches all three NATS servers, streams are kept on three,
replicas share their part's database, certificate and login, and the user's database wins."""

from __future__ import annotations

import itertools
from pathlib import Path

from launcher.cluster_databases import database_urls
from launcher.embedded_nats import ClusterMembership
from launcher.plan import GATEWAY, ChildSpec, HttpOk, plan_cluster_children
from services.kernel.settings import SERVICE_NAMES

NATS_URLS = "nats://127.0.0.1:30001,nats://127.0.0.1:30002,nats://127.0.0.1:30003"


def plan(env: dict[str, str], data_dir: Path) -> dict[str, ChildSpec]:
    ports = itertools.count(41000)
    children = plan_cluster_children(
        env,
        data_dir,
        NATS_URLS,
        18000,
        lambda: next(ports),
        database_urls(env),
        python="py",
        nats_passwords={"orders": "pw-orders", GATEWAY: "pw-gateway"},
    )
    return {child.name: child for child in children}


def test_every_client_reaches_every_replica_and_every_nats_server(tmp_path: Path) -> None:
    children = plan({}, tmp_path)

    replicas = {name: [children[f"{name}-{n}"].address for n in (1, 2)] for name in SERVICE_NAMES}
    for child in children.values():
        for name, addresses in replicas.items():
            assert child.env[f"OMS_{name.upper()}_GRPC_TARGET"] == "ipv4:" + ",".join(addresses)
        assert child.env["OMS_NATS_URL"] == NATS_URLS
        assert child.env["OMS_NATS_STREAM_REPLICAS"] == "3"
    assert len({address for pair in replicas.values() for address in pair}) == 2 * len(
        SERVICE_NAMES
    )
    gateways = [children[f"gateway-{n}"] for n in (1, 2)]
    assert [g.env["OMS_GATEWAY_LISTEN"] for g in gateways] == ["127.0.0.1:18000", "127.0.0.1:18001"]
    assert [g.readiness for g in gateways] == [
        HttpOk("http://127.0.0.1:18000/readyz"),
        HttpOk("http://127.0.0.1:18001/readyz"),
    ]


def test_replicas_share_their_parts_database_certificate_and_login(tmp_path: Path) -> None:
    env = {"OMS_RETURNS_DATABASE_URL": "postgresql://me@db.example/returns"}
    children = plan(env, tmp_path)

    for n in (1, 2):
        orders, returns = children[f"orders-{n}"], children[f"returns-{n}"]
        assert orders.part == "orders" and children[f"gateway-{n}"].part == GATEWAY
        assert orders.env["OMS_ORDERS_DATABASE_URL"] == (
            "postgresql://postgres@127.0.0.1:5432/oms_cluster_orders"
        )
        assert returns.env["OMS_RETURNS_DATABASE_URL"] == "postgresql://me@db.example/returns"
        assert orders.env["OMS_TLS_DIR"] == str(tmp_path / "tls" / "orders")
        assert (orders.env["OMS_NATS_USER"], orders.env["OMS_NATS_PASSWORD"]) == (
            "orders",
            "pw-orders",
        )
        # No replica holds another part's database.
        assert "OMS_ORDERS_DATABASE_URL" not in children[f"inventory-{n}"].env


def test_each_nats_server_routes_to_its_peers_with_the_route_login() -> None:
    member = ClusterMembership("nats-2", 6002, (6001, 6003), "oms-route", "secret")
    config = member.config("127.0.0.1")

    assert 'server_name: "nats-2"' in config
    assert 'listen: "127.0.0.1:6002"' in config
    assert '"nats://oms-route:secret@127.0.0.1:6001"' in config
    assert '"nats://oms-route:secret@127.0.0.1:6003"' in config
    assert '@127.0.0.1:6002"' not in config and "no_advertise: true" in config


def test_every_replica_serves_its_metrics_on_a_port_of_its_own(tmp_path: Path) -> None:
    # Two replicas cannot share one port: the user's single address is used for neither.
    env = {"OMS_ORDERS_METRICS_LISTEN": "0.0.0.0:9464", "OMS_GATEWAY_METRICS_LISTEN": ":9465"}
    children = plan(env, tmp_path)

    assert len(children) == 2 * (len(SERVICE_NAMES) + 1)
    for child in children.values():
        listen = child.env[f"OMS_{child.part.upper()}_METRICS_LISTEN"]
        assert listen.startswith("127.0.0.1:")
        assert child.metrics_url == f"http://{listen}/metrics"
    # Nothing any replica listens on is taken by another or by its own other ports.
    own = [
        (child.name, value)
        for child in children.values()
        for key, value in child.env.items()
        if key.endswith("_LISTEN") and key.startswith(f"OMS_{child.part.upper()}_")
    ]
    assert len({value for _, value in own}) == len(own)
