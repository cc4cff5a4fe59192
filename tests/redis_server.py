"""A throwaway `redis-server` on a free loopback port, which tests can stop and restart on the same port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

START_TIMEOUT = 5.0
_NO_RETRY = Retry(NoBackoff(), 0)


def free_port() -> int:
    """Return a loopback TCP port nobody listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_server_binary() -> str:
    """Find redis-server (REDIS_SERVER_BIN, else PATH); fail when REQUIRE_REDIS=1, else skip, when it is missing."""
    binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if binary and os.access(binary, os.X_OK):
        return binary
    where = f"REDIS_SERVER_BIN={binary!r} is not executable" if binary else "redis-server is not on PATH"
    reason = (
        f"{where} (set REDIS_SERVER_BIN or install it: apt-get install -y redis-server); "
        "the Redis backend's tests cannot run"
    )
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(f"REQUIRE_REDIS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class RedisServer:
    """One redis-server process on 127.0.0.1:`port`, with no persistence."""

    def __init__(self, binary: str, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.extra_args = extra_args
        self._dir = Path(tempfile.mkdtemp(prefix="pexbot-redis-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def workdir(self) -> Path:
        """The server's --dir (also a place for test files such as TLS certificates)."""
        return self._dir

    @property
    def url(self) -> str:
        """The redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (for tests that stop it with SIGSTOP to make it hang)."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        if self.running:
            return
        args = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._dir),
            "--protected-mode", "yes",
            *self.extra_args,
        ]  # fmt: skip
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}: {err.strip()[-500:]}")
            if self._ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} within {START_TIMEOUT}s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stderr:
            proc.stderr.close()

    def restart(self) -> None:
        """Stop, then start again on the same port (its data is gone: there is no persistence)."""
        self.stop()
        self.start()

    def flushall(self) -> None:
        """Delete every key."""
        with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2) as client:
            client.flushall()

    def cleanup(self) -> None:
        """Stop the server and remove its working directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _ping(self) -> bool:
        try:
            with redis.Redis(
                host="127.0.0.1", port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5, retry=_NO_RETRY
            ) as client:
                return bool(client.ping())
        except (redis.AuthenticationError, redis.ResponseError):
            return True  # it answered (asking for a password, as with --requirepass)
        except redis.RedisError:
            return False
