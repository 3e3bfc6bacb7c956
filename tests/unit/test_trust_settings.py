"""Where each process finds its certificate and NATS login, and when it goes without."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kernel.settings import (
    ServiceSettings,
    nats_servers,
    nats_url,
    tls_dir,
    without_password,
)


def test_a_part_finds_its_certificate_in_the_data_dir_unless_told_where(tmp_path: Path) -> None:
    assert tls_dir("orders", {"OMS_DATA_DIR": str(tmp_path)}) == tmp_path / "tls" / "orders"
    assert tls_dir("orders", {"OMS_TLS_DIR": "/etc/oms/tls"}) == Path("/etc/oms/tls")


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_plaintext_only_when_asked_for_by_name(value: str) -> None:
    assert tls_dir("orders", {"OMS_INSECURE_PLAINTEXT": value}) is None


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_anything_else_keeps_tls(value: str) -> None:
    assert tls_dir("orders", {"OMS_INSECURE_PLAINTEXT": value}) is not None


def test_service_settings_keep_tls_and_leave_reflection_and_the_health_port_off() -> None:
    settings = ServiceSettings.from_env("inventory", {})
    assert settings.tls_dir is not None
    assert settings.grpc_reflection is False
    assert settings.health_listen is None
    on = ServiceSettings.from_env(
        "inventory", {"OMS_GRPC_REFLECTION": "1", "OMS_INVENTORY_HEALTH_LISTEN": "0.0.0.0:8081"}
    )
    assert (on.grpc_reflection, on.health_listen) == (True, "0.0.0.0:8081")


def test_the_nats_login_goes_into_the_url_and_never_into_a_log_line() -> None:
    env = {
        "OMS_NATS_URL": "nats://nats:4222",
        "OMS_NATS_USER": "inventory",
        "OMS_NATS_PASSWORD": "s3cret-Pass_word",
    }
    url = nats_url(env)
    assert url == "nats://inventory:s3cret-Pass_word@nats:4222"
    assert without_password(url) == "nats://inventory:***@nats:4222"
    assert "s3cret" not in repr(ServiceSettings.from_env("inventory", env))
    assert nats_url({"OMS_NATS_URL": "nats://nats:4222"}) == "nats://nats:4222"


def test_a_password_the_client_would_mangle_is_refused() -> None:
    with pytest.raises(ValueError, match="OMS_NATS_PASSWORD"):
        nats_url({"OMS_NATS_USER": "inventory", "OMS_NATS_PASSWORD": "p@ss:word"})


def test_every_server_of_a_cluster_gets_the_login_and_loses_it_in_a_log_line() -> None:
    env = {
        "OMS_NATS_URL": "nats://127.0.0.1:4222, nats://127.0.0.1:4223,nats://127.0.0.1:4224",
        "OMS_NATS_USER": "orders",
        "OMS_NATS_PASSWORD": "pw",
    }
    url = nats_url(env)
    assert nats_servers(url) == [
        "nats://orders:pw@127.0.0.1:4222",
        "nats://orders:pw@127.0.0.1:4223",
        "nats://orders:pw@127.0.0.1:4224",
    ]
    assert ":pw@" not in without_password(url)
    assert without_password(url).count("orders:***@") == 3
