"""The Kubernetes manifests let Prometheus find and reach every OMS process: each container
serves its metrics where its environment says, on a port named `metrics` that the pod's
`prometheus.io/*` annotations and the network policy name, and reads the optional tracing
ConfigMap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from launcher.nats_access import PARTIES

KUBERNETES = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
METRICS_PORT = 9464


def documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def deployment(part: str) -> dict[str, Any]:
    (found,) = [
        document
        for document in documents(KUBERNETES / f"{part}.yaml")
        if document["kind"] == "Deployment"
    ]
    return found


def env_value(container: dict[str, Any], name: str) -> str:
    (value,) = [item["value"] for item in container.get("env", []) if item["name"] == name]
    return str(value)


@pytest.mark.parametrize("part", PARTIES)
def test_each_container_serves_metrics_on_its_named_port_and_says_so(part: str) -> None:
    pod = deployment(part)["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    listen = env_value(container, f"OMS_{part.upper()}_METRICS_LISTEN")
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    assert listen == f"0.0.0.0:{METRICS_PORT}"
    assert ports["metrics"] == METRICS_PORT
    assert list(ports.values()).count(METRICS_PORT) == 1
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(METRICS_PORT),
        "prometheus.io/path": "/metrics",
    }
    # Tracing is off until the optional ConfigMap exists, and on in every part once it does.
    assert {"configMapRef": {"name": "oms-tracing", "optional": True}} in container["envFrom"]


def test_prometheus_may_reach_the_metrics_port_and_no_other() -> None:
    policies = {
        document["metadata"]["name"]: document["spec"]
        for document in documents(KUBERNETES / "networkpolicies.yaml")
    }
    scrape = policies["allow-metrics-scrape"]

    assert scrape["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "oms"}}
    assert [rule["ports"] for rule in scrape["ingress"]] == [
        [{"protocol": "TCP", "port": METRICS_PORT}]
    ]


def test_the_optional_monitoring_files_select_the_metrics_port_and_name_a_tracing_config() -> None:
    kustomization = documents(KUBERNETES / "monitoring" / "kustomization.yaml")[0]
    found = {
        document["kind"]: document
        for name in kustomization["resources"]
        for document in documents(KUBERNETES / "monitoring" / name)
    }

    assert [
        endpoint["port"] for endpoint in found["PodMonitor"]["spec"]["podMetricsEndpoints"]
    ] == ["metrics"]
    assert found["ConfigMap"]["metadata"]["name"] == "oms-tracing"
    assert found["ConfigMap"]["data"]["OTEL_TRACES_EXPORTER"] == "otlp"
