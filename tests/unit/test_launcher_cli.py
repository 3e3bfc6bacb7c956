"""`oms token`, and how `oms up` wires its children's environment (no process is started)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from gateway.auth import InvalidToken, load_or_create_signing_key, verify_token
from launcher.cli import main
from launcher.plan import GATEWAY, ChildSpec, GrpcHealth, HttpOk, dialable, plan_children
from services.kernel.caller import Role
from services.kernel.settings import SERVICE_NAMES

NATS_URL = "nats://127.0.0.1:39999"


def ports_from(first: int) -> Callable[[], int]:
    counter = itertools.count(first)
    return lambda: next(counter)


def plan(env: dict[str, str], data_dir: Path, port: int | None = None) -> dict[str, ChildSpec]:
    children = plan_children(env, data_dir, NATS_URL, port, ports_from(41000), python="py")
    return {child.name: child for child in children}


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


# oms token


def test_token_is_alone_on_the_last_line_and_signed_with_the_data_dirs_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_JWT_SECRET", raising=False)

    assert main(["token", "--role", "backoffice", "--data-dir", str(tmp_path)]) == 0

    token = last_line(capsys.readouterr().out)
    principal = verify_token(load_or_create_signing_key(tmp_path), token)
    assert principal.role is Role.BACKOFFICE
    assert principal.location_code is None


def test_scanner_token_carries_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_JWT_SECRET", raising=False)
    args = ["token", "--role", "scanner", "--location", "HUB-1", "--data-dir", str(tmp_path)]

    assert main(args) == 0

    principal = verify_token(
        load_or_create_signing_key(tmp_path), last_line(capsys.readouterr().out)
    )
    assert principal.role is Role.SCANNER
    assert principal.location_code == "HUB-1"


def test_a_scanner_sign_in_link_carries_the_token_in_its_fragment_and_as_a_qr_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["token", "--role", "scanner", "--location", "HUB-BER", "--data-dir", str(tmp_path)]
    assert main([*args, "--qr", "--gateway", "http://127.0.0.1:9000/"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    token = lines[-1]
    assert lines[-2] == f"# sign in: http://127.0.0.1:9000/scanner/#token={token}"
    drawn = [line for line in lines if line.startswith("# ") and "\u2588" in line]
    # A QR code of a link this long is at least 41 modules a side, two rows a line.
    assert len(drawn) >= 20, lines


def test_a_storefront_keeps_its_subject_across_reissued_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_JWT_SECRET", raising=False)
    args = ["token", "--role", "storefront", "--subject", "shop-eu", "--channel", "web-eu"]
    args += ["--data-dir", str(tmp_path)]
    key = load_or_create_signing_key(tmp_path)
    subjects = set()
    for _ in range(2):
        assert main(args) == 0
        subjects.add(verify_token(key, last_line(capsys.readouterr().out)).subject)
    assert subjects == {"shop-eu"}


def test_a_storefront_token_names_the_channels_it_sells_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_JWT_SECRET", raising=False)
    args = ["token", "--role", "storefront", "--channel", "web-eu", "--channel", "amazon-de"]
    assert main([*args, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "on web-eu, amazon-de" in out
    principal = verify_token(load_or_create_signing_key(tmp_path), last_line(out))
    assert principal.channels == ("web-eu", "amazon-de")
    assert principal.sells_on("web-eu") and not principal.sells_on("web-us")
    # A storefront bound to no channel could take any channel's orders: refused.
    assert main(["token", "--role", "storefront", "--data-dir", str(tmp_path)]) == 2
    assert "--channel" in capsys.readouterr().err
    assert main([*args[:3], "--channel", "web eu", "--data-dir", str(tmp_path)]) == 2
    # Other roles work on every channel; the option binds nothing for them.
    assert (
        main(["token", "--role", "admin", "--channel", "web-eu", "--data-dir", str(tmp_path)]) == 0
    )
    admin = verify_token(load_or_create_signing_key(tmp_path), last_line(capsys.readouterr().out))
    assert admin.channels == () and admin.sells_on("anything")


def test_a_storefront_token_without_channels_is_not_accepted() -> None:
    key = b"a-test-signing-key-of-at-least-32-bytes"
    now = datetime.now(UTC)
    claims = {"iss": "oms", "sub": "shop", "role": "storefront", "iat": now}
    for channels in (None, [], ["web eu"], "web", ["w" * 65]):
        given = claims | {"exp": now + timedelta(hours=1)}
        if channels is not None:
            given["channels"] = channels
        with pytest.raises(InvalidToken):
            verify_token(key, jwt.encode(given, key, algorithm="HS256"))


def test_configured_secret_wins_over_the_data_dirs_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a-configured-secret-of-at-least-32-bytes"
    monkeypatch.setenv("OMS_JWT_SECRET", secret)

    assert main(["token", "--role", "admin", "--data-dir", str(tmp_path)]) == 0

    token = last_line(capsys.readouterr().out)
    assert verify_token(secret.encode(), token).role is Role.ADMIN


def test_scanner_token_without_location_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--role", "scanner", "--data-dir", str(tmp_path)]) == 2
    assert "--location" in capsys.readouterr().err


def test_unknown_role_is_refused_with_the_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "--role", "janitor", "--data-dir", str(tmp_path)])

    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "janitor" in error
    assert all(role.value in error for role in Role)


# oms up: the children's environment


def test_embedded_defaults_give_each_service_its_own_sqlite_file_and_port(tmp_path: Path) -> None:
    children = plan({}, tmp_path)

    assert list(children) == [*SERVICE_NAMES, GATEWAY]
    listens = set()
    for name in SERVICE_NAMES:
        env = children[name].env
        upper = name.upper()
        assert env[f"OMS_{upper}_DATABASE_URL"] == f"sqlite:///{tmp_path / name}.sqlite"
        assert env["OMS_NATS_URL"] == NATS_URL
        assert env["OMS_DATA_DIR"] == str(tmp_path)
        assert children[name].argv == ("py", "-m", f"services.{name}")
        # Probed on its plaintext health-only port: the service port wants a certificate.
        assert children[name].readiness == GrpcHealth(env[f"OMS_{upper}_HEALTH_LISTEN"])
        listens.add(env[f"OMS_{upper}_GRPC_LISTEN"])
        listens.add(env[f"OMS_{upper}_HEALTH_LISTEN"])
    assert len(listens) == 2 * len(SERVICE_NAMES)


def test_gateway_knows_every_service_and_listens_on_the_given_port(tmp_path: Path) -> None:
    children = plan({}, tmp_path, port=8123)
    gateway = children[GATEWAY]

    for name in SERVICE_NAMES:
        listen = children[name].env[f"OMS_{name.upper()}_GRPC_LISTEN"]
        assert gateway.env[f"OMS_{name.upper()}_GRPC_TARGET"] == listen
        assert f"OMS_{name.upper()}_DATABASE_URL" not in gateway.env
    assert gateway.argv == ("py", "-m", "gateway")
    assert gateway.env["OMS_GATEWAY_LISTEN"] == "127.0.0.1:8123"
    assert gateway.address == "http://127.0.0.1:8123/graphql"
    assert gateway.readiness == HttpOk("http://127.0.0.1:8123/readyz")


def test_what_the_user_set_wins_over_the_embedded_defaults(tmp_path: Path) -> None:
    user = {
        "OMS_INVENTORY_DATABASE_URL": "postgresql://oms@db.internal/inventory",
        "OMS_ORDERS_GRPC_LISTEN": "0.0.0.0:6000",
        "OMS_ORDERS_HEALTH_LISTEN": "0.0.0.0:6001",
        "OMS_NATS_URL": "nats://broker.internal:4222",
        "OMS_SHUTDOWN_GRACE_SECONDS": "9",
        "HOME": "/home/someone",
    }
    children = plan(user, tmp_path)

    inventory, orders = children["inventory"].env, children["orders"].env
    assert inventory["OMS_INVENTORY_DATABASE_URL"] == "postgresql://oms@db.internal/inventory"
    assert orders["OMS_ORDERS_DATABASE_URL"] == f"sqlite:///{tmp_path / 'orders'}.sqlite"
    assert orders["OMS_ORDERS_GRPC_LISTEN"] == "0.0.0.0:6000"
    assert children["orders"].readiness == GrpcHealth("127.0.0.1:6001")
    assert children[GATEWAY].env["OMS_ORDERS_GRPC_TARGET"] == "127.0.0.1:6000"
    for child in children.values():
        assert child.env["OMS_NATS_URL"] == "nats://broker.internal:4222"
        assert child.env["OMS_SHUTDOWN_GRACE_SECONDS"] == "9"
        assert child.env["HOME"] == "/home/someone"


def test_empty_variables_count_as_unset(tmp_path: Path) -> None:
    children = plan({"OMS_NATS_URL": "", "OMS_RETURNS_DATABASE_URL": ""}, tmp_path)

    assert children["returns"].env["OMS_NATS_URL"] == NATS_URL
    assert children["returns"].env["OMS_RETURNS_DATABASE_URL"].startswith("sqlite:///")


def test_gateway_port_flag_beats_the_environment_which_beats_the_default(
    tmp_path: Path,
) -> None:
    env = {"OMS_GATEWAY_LISTEN": "0.0.0.0:9000"}

    assert plan({}, tmp_path)[GATEWAY].env["OMS_GATEWAY_LISTEN"] == "127.0.0.1:8000"
    assert plan(env, tmp_path)[GATEWAY].env["OMS_GATEWAY_LISTEN"] == "0.0.0.0:9000"
    assert plan(env, tmp_path)[GATEWAY].readiness == HttpOk("http://127.0.0.1:9000/readyz")
    assert plan(env, tmp_path, port=8500)[GATEWAY].env["OMS_GATEWAY_LISTEN"] == "127.0.0.1:8500"


def test_data_dir_is_the_launchers_choice_even_when_the_environment_names_another(
    tmp_path: Path,
) -> None:
    children = plan({"OMS_DATA_DIR": "/somewhere/else"}, tmp_path)

    assert {child.env["OMS_DATA_DIR"] for child in children.values()} == {str(tmp_path)}


@pytest.mark.parametrize(
    ("listen", "target"),
    [
        ("0.0.0.0:50051", "127.0.0.1:50051"),
        ("[::]:50051", "127.0.0.1:50051"),
        (":50051", "127.0.0.1:50051"),
        ("10.1.2.3:50051", "10.1.2.3:50051"),
    ],
)
def test_a_wildcard_listen_address_is_dialled_on_loopback(listen: str, target: str) -> None:
    assert dialable(listen) == target


# oms up: each part's own secrets, and no one else's


def test_each_part_gets_its_own_certificate_and_nats_login_and_no_other_parts_secrets(
    tmp_path: Path,
) -> None:
    user = {
        "OMS_JWT_SECRET": "a-signing-key",
        "OMS_INVENTORY_DATABASE_URL": "postgresql://inv:pw@db/inventory",
        "OMS_REFUND_WEBHOOK_SECRET": "hmac-key",
        "OMS_TLS_DIR": "/somewhere/shared",
    }
    passwords = {name: f"pw-{name}" for name in [*SERVICE_NAMES, GATEWAY]}
    children = {
        child.name: child
        for child in plan_children(
            user, tmp_path, NATS_URL, None, ports_from(41000), "py", nats_passwords=passwords
        )
    }

    for name, child in children.items():
        env = child.env
        assert env["OMS_TLS_DIR"] == str(tmp_path / "tls" / name)
        assert (env["OMS_NATS_USER"], env["OMS_NATS_PASSWORD"]) == (name, f"pw-{name}")
        assert ("OMS_JWT_SECRET" in env) is (name == GATEWAY)
        assert ("OMS_REFUND_WEBHOOK_SECRET" in env) is (name == "returns")
        own_databases = {key for key in env if key.endswith("_DATABASE_URL")}
        assert own_databases == ({f"OMS_{name.upper()}_DATABASE_URL"} if name != GATEWAY else set())
    assert (
        children["inventory"].env["OMS_INVENTORY_DATABASE_URL"]
        == user["OMS_INVENTORY_DATABASE_URL"]
    )


def test_without_an_embedded_broker_no_nats_login_is_made_up(tmp_path: Path) -> None:
    children = plan({"OMS_NATS_URL": "nats://broker.internal:4222"}, tmp_path)

    assert all("OMS_NATS_PASSWORD" not in child.env for child in children.values())


def test_reflection_is_on_under_oms_up_unless_the_user_says_otherwise(tmp_path: Path) -> None:
    assert plan({}, tmp_path)["inventory"].env["OMS_GRPC_REFLECTION"] == "1"
    assert (
        plan({"OMS_GRPC_REFLECTION": "0"}, tmp_path)["inventory"].env["OMS_GRPC_REFLECTION"] == "0"
    )
