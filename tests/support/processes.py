"""Service processes started as an operator would: `python -m services.<name>`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import grpc
import httpx

from services.kernel.grpc_client import DEFAULT_DEADLINE_SECONDS, is_serving
from tests.support.trust import gateway_channel, tls_dir


class ServiceProcess:
    """One service (or the gateway) in its own process, with its log in a file and its
    certificate from the tests' CA."""

    def __init__(
        self, name: str, env: Mapping[str, str], log_dir: Path, port: int, module: str = ""
    ) -> None:
        self.name = name
        self.module = module or f"services.{name}"
        self.port = port
        self.env = {**os.environ, "OMS_TLS_DIR": str(tls_dir(name)), **env}
        self.log_path = log_dir / f"{name}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def channel(self, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> grpc.aio.Channel:
        """A channel to the service as the gateway opens one."""
        return gateway_channel(self.target, self.name, deadline_seconds)

    async def wait_serving(self, timeout: float = 30.0) -> None:
        channel = self.channel()
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while asyncio.get_running_loop().time() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
                if await is_serving(channel, timeout=0.5):
                    return
                await asyncio.sleep(0.1)
            raise TimeoutError(f"{self.name} not serving: {self.log_path.read_text()[-3000:]}")
        finally:
            await channel.close()

    async def wait_http_ok(self, path: str = "/healthz", timeout: float = 30.0) -> None:
        """For an HTTP process (the gateway): waits until `path` answers 200."""
        url = f"http://{self.target}{path}"
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
                try:
                    if (await client.get(url, timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not answering: {self.log_path.read_text()[-3000:]}")

    def terminate(self, timeout: float = 15.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def freeze(self) -> None:
        """Stops the process where it is (SIGSTOP): its calls and its relay wait, unanswered."""
        assert self.process is not None and self.process.poll() is None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Lets a frozen process go on (SIGCONT)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
