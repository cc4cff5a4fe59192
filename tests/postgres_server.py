"""A throwaway PostgreSQL server on a free loopback port in a temp data dir, which tests can stop and restart.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (or `nobody`)
through `runuser`. The superuser `pexbot` logs in over TCP with a password (SCRAM), so tests see the
URLs operators write, password included, and can check that it never leaks into an error.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

START_TIMEOUT = 30


def free_port() -> int:
    """Return a loopback TCP port nobody listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _has_server(bindir: str | None) -> bool:
    return bool(bindir) and all(os.access(os.path.join(str(bindir), name), os.X_OK) for name in ("initdb", "pg_ctl"))


def _candidate_bindirs() -> list[str]:
    found: list[str] = []
    env = os.environ.get("POSTGRES_BIN")
    if env:
        return [env]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        found.append(os.path.dirname(os.path.realpath(pg_ctl)))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False)
            found.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    found += sorted(versions, key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0, reverse=True)
    return found


def server_user() -> str | None:
    """The unprivileged user that runs the server when the tests run as root (None: run it as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    return None


def postgres_bindir() -> str:
    """Find the server binaries (POSTGRES_BIN, PATH, pg_config, /usr/lib/postgresql/*/bin).

    Fails when REQUIRE_POSTGRES=1, else skips, when they are missing.
    """
    for bindir in _candidate_bindirs():
        if _has_server(bindir):
            if os.geteuid() == 0 and (server_user() is None or shutil.which("runuser") is None):
                _missing("running as root needs runuser and a `postgres` or `nobody` user to run the server")
            return bindir
    _missing("no PostgreSQL server binaries (initdb, pg_ctl) were found")
    raise AssertionError("unreachable")


def _missing(why: str) -> None:
    reason = (
        f"{why} (set POSTGRES_BIN or install them: apt-get install -y postgresql); "
        "the PostgreSQL backend's tests cannot run"
    )
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class PostgresServer:
    """One PostgreSQL server on 127.0.0.1:`port`, tuned for tests (no fsync)."""

    user = "pexbot"

    def __init__(self, bindir: str, port: int | None = None) -> None:
        self.bindir = bindir
        self.port = port or free_port()
        self.password = "pw-" + secrets.token_hex(8)
        self._run_as = server_user()
        self._dir = Path(tempfile.mkdtemp(prefix="pexbot-pg-"))
        self._dir.chmod(0o755)  # the server user must reach its data dir inside
        self.datadir = self._dir / "data"
        self.socketdir = self._dir / "socket"
        self.logfile = self._dir / "server.log"
        self._initialised = False
        self._running = False

    def url(self, database: str = "postgres") -> str:
        """A postgresql:// URL with the password, as an operator would set DATABASE_URL."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._running

    def _command(self, program: str, *args: str) -> list[str]:
        command = [os.path.join(self.bindir, program), *args]
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *command]
        return command

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            self._command(program, *args),
            cwd=self._dir,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT + 10,
            check=False,
        )
        if result.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-1500:] if self.logfile.exists() else ""
            raise RuntimeError(
                f"{program} {' '.join(args[:2])} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-1500:]}\n{log}"
            )

    def _own(self, path: Path) -> None:
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> None:
        """Create the cluster (once)."""
        if self._initialised:
            return
        for path in (self.datadir, self.socketdir):
            path.mkdir(mode=0o700)
            self._own(path)
        pwfile = self._dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        self._own(pwfile)
        self.logfile.touch()
        self._own(self.logfile)
        self._run(
            "initdb",
            "-D", str(self.datadir),
            "-U", self.user,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        self._initialised = True

    def start(self) -> None:
        """Start the server (initialising it first) and wait until it accepts connections."""
        if self._running:
            return
        self.init()
        options = (
            f"-p {self.port} -k {self.socketdir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            "pg_ctl", "start", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", str(START_TIMEOUT),
            "-o", options,
        )  # fmt: skip
        self._running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: disconnect every client at once); its data stays."""
        if not self._running:
            return
        self._running = False
        self._run("pg_ctl", "stop", "-D", str(self.datadir), "-m", mode, "-w", "-t", str(START_TIMEOUT))

    def cleanup(self) -> None:
        """Stop the server and remove its directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
