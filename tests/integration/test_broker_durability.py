"""An acknowledged event survives the broker's machine: every NATS server the system runs
flushes each write to disk before acknowledging it, and a cluster keeps each stream on three
nodes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import textwrap
import time
import urllib.request
from pathlib import Path

from launcher.embedded_nats import EmbeddedNats, nats_server_binary
from launcher.nats_access import PARTIES, password_variable
from services.kernel.events import connect, ensure_stream_patiently, stream_name

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_embedded_broker_syncs_every_write(nats_server: EmbeddedNats) -> None:
    url = f"http://127.0.0.1:{nats_server.monitor_port}/varz"
    with urllib.request.urlopen(url, timeout=5) as response:
        config = json.load(response)["jetstream"]["config"]
    assert config["sync_always"] is True


def kubernetes_nats_conf() -> str:
    """The nats.conf the Kubernetes ConfigMap mounts, as the server reads it."""
    manifest = (DEPLOY / "kubernetes" / "nats.yaml").read_text()
    block = manifest.split("nats.conf: |\n", 1)[1].split("\n---", 1)[0]
    return textwrap.dedent(block)


def test_the_deployed_brokers_sync_every_write_and_streams_keep_three_copies(
    tmp_path: Path,
) -> None:
    for name, text in (
        ("kubernetes", kubernetes_nats_conf()),
        ("compose", (DEPLOY / "nats-single.conf").read_text()),
    ):
        assert "sync_interval: always" in text, name
        conf = tmp_path / f"{name}.conf"
        # The server checks the file as it would load it ($POD_NAME comes from the pod).
        conf.write_text(text.replace("$POD_NAME", "nats-0"))
        # Its users' passwords come from the environment, as the pods and compose give them.
        passwords = {password_variable(party): "a-password" for party in PARTIES}
        checked = subprocess.run(
            [str(nats_server_binary()), "-c", str(conf), "-t"],
            capture_output=True,
            text=True,
            env={**os.environ, **passwords},
        )
        assert checked.returncode == 0, (name, checked.stderr)
    config = (DEPLOY / "kubernetes" / "config.yaml").read_text()
    assert 'OMS_NATS_STREAM_REPLICAS: "3"' in config


async def test_a_service_starting_while_jetstream_cannot_answer_waits_for_it(
    nats_server: EmbeddedNats,
) -> None:
    client = await connect(nats_server.url, "oms-inventory")
    try:
        nats_server.stop()
        restarted = asyncio.create_task(asyncio.to_thread(restart_later, nats_server, 1.5))
        await ensure_stream_patiently(client.jetstream(), "inventory", patience_seconds=20)
        await restarted
        info = await client.jetstream().stream_info(stream_name("inventory"))
        assert info.config.subjects == ["oms.inventory.>"]
    finally:
        await client.close()


def restart_later(server: EmbeddedNats, seconds: float) -> None:
    time.sleep(seconds)
    server.start()
