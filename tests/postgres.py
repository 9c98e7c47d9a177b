"""A private PostgreSQL server for the tests.

``postgres_dsn`` (session scope): ``initdb`` a cluster in a temporary folder, start it on a free
port on 127.0.0.1 (password authentication, a random password), create a database, yield its
URL; the server is stopped and the folder removed when the session ends. Use it from a test
module with ``from postgres import pg_database, postgres_dsn  # noqa: F401``; however many
modules import it, one server serves the session.

``pg_database`` (function scope): a new empty database on that server per test, dropped after.

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user (the
Debian package creates it; else ``nobody``). The cluster's default collation is ICU ``en-US``,
as a production database's often is, so tests notice SQL that depends on it. A watchdog process
stops the server should the test process die without its teardown (a kill, a crash).

The tests are skipped only when the PostgreSQL server binaries are not installed
(``scripts/system-deps.sh`` installs them); any other failure to start is an error.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

from conftest import free_port

SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")
SUPERUSER = "kiosk_test"
DATABASE = "kiosk_central"


def find_bin_dir() -> Optional[Path]:
    """The folder with initdb, pg_ctl and postgres: $PG_BIN, else the newest installed, else PATH."""
    if os.environ.get("PG_BIN"):
        given = Path(os.environ["PG_BIN"])
        if not all((given / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            raise RuntimeError(f"PG_BIN={given} has no initdb, pg_ctl and postgres")
        return given
    import glob

    def version(path: str) -> tuple:
        digits = "".join(c if c.isdigit() else " " for c in path).split()
        return tuple(int(d) for d in digits)

    for pattern in SEARCH:
        for candidate in sorted(glob.glob(pattern), key=version, reverse=True):
            if all((Path(candidate) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
                return Path(candidate)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl") and shutil.which("postgres"):
        return Path(os.path.realpath(found)).parent
    return None


def _server_user() -> Optional[str]:
    """Whom to run the server as: None = ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a postgres nor a nobody user to run PostgreSQL as")


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir=self._parent()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        self.started = False
        self._watchdog: Optional[subprocess.Popen] = None
        self.start_s = 0.0

    def _parent(self) -> str:
        """The temporary folder, if the server's user can reach into it; else /tmp."""
        parent = Path(tempfile.gettempdir()).resolve()
        if self.user is None or all(p.stat().st_mode & 0o001 for p in (parent, *parent.parents)):
            return str(parent)
        return "/tmp"

    def _as_server_user(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *args] if self.user else list(args)

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(self._as_server_user(*args), capture_output=True, text=True,
                                timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n"
                               f"{result.stdout}\n{result.stderr}\n{log}")

    def url(self, dbname: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        began = time.monotonic()
        if self.user:
            shutil.chown(self.root, self.user)
        self.root.chmod(0o700)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.user:
            shutil.chown(pwfile, self.user)
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                  f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US",
                  "--no-sync", "--no-instructions")
        pwfile.unlink()
        options = " ".join([
            "-c listen_addresses=127.0.0.1", f"-p {self.port}",
            f"-c unix_socket_directories={self.root}",  # not the system's /run/postgresql
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",  # throwaway data
            "-c max_connections=50 -c shared_buffers=16MB",
        ])
        self.started = True  # from here on, stop() tries pg_ctl stop
        self._start_watchdog()
        self._run(str(self.bin_dir / "pg_ctl"), "start", "-D", str(self.data), "-w", "-t", "60",
                  "-l", str(self.log), "-o", options)
        self.admin(f"CREATE DATABASE {DATABASE}")
        self.start_s = time.monotonic() - began

    def _start_watchdog(self) -> None:
        """A process of its own session that outlives us: when this process is gone, it stops
        the server (immediate) and removes the folder."""
        stop = self._as_server_user(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data),
                                    "-m", "immediate", "-w")
        code = (
            "import os, shutil, subprocess, sys, time\n"
            f"parent, stop, root = {os.getpid()}, {stop!r}, {str(self.root)!r}\n"
            "while True:\n"
            "    try:\n"
            "        os.kill(parent, 0)\n"
            "    except ProcessLookupError:\n"
            "        break\n"
            "    time.sleep(1)\n"
            "if os.path.exists(os.path.join(root, 'data', 'postmaster.pid')):\n"
            "    subprocess.run(stop, capture_output=True)\n"
            "shutil.rmtree(root, ignore_errors=True)\n")
        self._watchdog = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)

    def admin(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as db:
            db.execute(sql)

    def stop(self) -> None:
        try:
            if self.started and (self.data / "postmaster.pid").exists():
                self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast",
                          "-w", "-t", "30")
        finally:
            self.started = False
            if self._watchdog is not None and self._watchdog.poll() is None:
                self._watchdog.send_signal(signal.SIGTERM)
                self._watchdog.wait(5)
            shutil.rmtree(self.root, ignore_errors=True)


_server: Optional[PostgresServer] = None
_users = 0
_guard = threading.Lock()


def _acquire() -> PostgresServer:
    global _server, _users
    with _guard:
        if _server is None:
            bin_dir = find_bin_dir()
            if bin_dir is None:
                pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed;"
                            " scripts/system-deps.sh installs them")
            server = PostgresServer(bin_dir)
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
            _server = server
            atexit.register(_stop_at_exit)
        _users += 1
        return _server


def _release() -> None:
    global _server, _users
    with _guard:
        _users -= 1
        if _users == 0 and _server is not None:
            server, _server = _server, None
            server.stop()


def _stop_at_exit() -> None:
    global _server
    if _server is not None:
        server, _server = _server, None
        server.stop()


def server() -> PostgresServer:
    """The running server (inside a test that uses ``postgres_dsn``)."""
    assert _server is not None, "use the postgres_dsn fixture first"
    return _server


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The URL of a database on a private PostgreSQL server, for the whole session."""
    srv = _acquire()
    try:
        yield srv.url()
    finally:
        _release()


_numbers = itertools.count(1)


@pytest.fixture
def pg_database(postgres_dsn) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    srv = server()
    name = f"t{next(_numbers)}_{secrets.token_hex(3)}"
    srv.admin(f"CREATE DATABASE {name}")
    try:
        yield srv.url(name)
    finally:
        srv.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
