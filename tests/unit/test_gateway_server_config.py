"""How the gateway's uvicorn server is configured from its settings."""

from __future__ import annotations

from pathlib import Path

from gateway.server import server_config
from gateway.settings import GatewaySettings


def test_the_access_log_is_off_unless_asked_for(tmp_path: Path) -> None:
    env = {"OMS_DATA_DIR": str(tmp_path), "OMS_INSECURE_PLAINTEXT": "1"}
    assert not server_config(GatewaySettings.from_env(env)).access_log
    asked = GatewaySettings.from_env(env | {"OMS_GATEWAY_ACCESS_LOG": "1"})
    assert server_config(asked).access_log
