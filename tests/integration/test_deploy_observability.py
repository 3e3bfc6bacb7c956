"""The dashboard and alert rules in deploy/ hold up offline: Prometheus' own `promtool` accepts
the rules, and every expression of the rules and of the Grafana dashboard's panels names only
metrics the code exports. promtool comes from Debian's `prometheus` package, installed here
when missing (the tests run as root); a machine where it cannot be installed fails the test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import gateway.metrics
import services.kernel.metrics

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "oms-dashboard.json"
# A gauge read at scrape time: its name where a service's reading is made.
READING = re.compile(r"(?:Reading|declared)\(\s*\"(oms_[a-z_]+)\"")
METRIC = re.compile(r"\boms_[a-z_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"],
            check=True,
            env=apt,
        )
        found = shutil.which("promtool")
    assert found, "no promtool after installing Debian's prometheus package"
    return found


def rule_expressions(text: str) -> list[str]:
    """The `expr:` of every rule in an alert rules file, inline or a folded block (`expr: >`)."""
    found, lines = [], text.splitlines()
    for number, line in enumerate(lines):
        key = re.match(r"^(\s*)expr:\s*(.*)$", line)
        if key is None:
            continue
        if key[2] not in (">", "|"):
            found.append(key[2])
            continue
        depth, block = len(key[1]), []
        for following in lines[number + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= depth:
                break
            block.append(following.strip())
        found.append(" ".join(block).strip())
    return found


def exported() -> set[str]:
    """The series names the processes serve: the counters and histograms registered by the
    kernel's and the gateway's metrics modules, and every gauge a service reads at scrape time."""
    assert services.kernel.metrics.RPC_REQUESTS and gateway.metrics.GRAPHQL_REQUESTS
    names = {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("oms_")
        for suffix in SUFFIXES[family.type]
    }
    for source in (REPO / "services").rglob("*.py"):
        names |= set(READING.findall(source.read_text()))
    return names


def test_promtool_accepts_the_alert_rules() -> None:
    checked = subprocess.run(
        [promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.mark.parametrize(
    "expressions",
    [
        pytest.param(
            lambda: rule_expressions(ALERTS.read_text()),
            id="alerts",
        ),
        pytest.param(
            lambda: [
                target["expr"]
                for panel in json.loads(DASHBOARD.read_text())["panels"]
                if panel["type"] != "row"
                for target in panel["targets"]
            ],
            id="dashboard",
        ),
    ],
)
def test_every_expression_names_only_metrics_the_code_exports(expressions: object) -> None:
    assert callable(expressions)
    found = expressions()
    assert found
    known = exported()
    for expression in found:
        named = set(METRIC.findall(expression))
        assert named, f"names no metric of ours: {expression}"
        assert named <= known, f"{expression}: {sorted(named - known)} not exported"


def test_the_dashboard_is_a_grafana_dashboard_with_one_expression_per_panel_at_least() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    graphs = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in graphs:
        assert panel["targets"], panel["title"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]
