"""The deployment files state the trust the code assumes: the broker's users and their
permissions, and each process's own certificate and NATS login."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.nats_access import PARTIES, deployment_authorization_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def indented(text: str, spaces: int) -> str:
    return "\n".join((" " * spaces + line) if line else "" for line in text.splitlines())


@pytest.mark.parametrize(("path", "indent"), [("kubernetes/nats.yaml", 4), ("nats-single.conf", 0)])
def test_the_brokers_in_deploy_grant_what_oms_up_grants(path: str, indent: int) -> None:
    """Regenerate with `python -m launcher.nats_access` after changing who consumes what."""
    assert indented(deployment_authorization_config(), indent) in (DEPLOY / path).read_text()


@pytest.mark.parametrize("part", PARTIES)
def test_each_pod_gets_its_own_certificate_and_nats_login(part: str) -> None:
    manifest = (DEPLOY / "kubernetes" / f"{part}.yaml").read_text()
    assert f"secretName: oms-tls-{part}\n" in manifest
    assert f"name: OMS_NATS_USER\n              value: {part}\n" in manifest
    assert f"name: oms-nats-users\n                  key: {part}\n" in manifest


def test_the_network_policies_are_applied() -> None:
    kustomization = (DEPLOY / "kubernetes" / "kustomization.yaml").read_text()
    assert "  - networkpolicies.yaml\n" in kustomization
