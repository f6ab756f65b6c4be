"""A private, throwaway MariaDB server for the test run, like ``pg_cluster`` for PostgreSQL.

``mariadb-install-db`` and ``mariadbd`` run with ``--no-defaults`` (no system configuration file is
read) in a temporary directory (under ``$TMPDIR`` if the socket path fits, else under ``/tmp``),
listening on 127.0.0.1 on a free port with their socket inside that directory, so the server never
meets another one on the machine; each pytest-xdist worker starts its own. As root (tests and CI
are) the server runs with ``--user=root``. A superuser with a password that needs quoting makes the
wrong-password case real; a user with no right to create databases makes the permission case real.
"""

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import loopback
from loopback import LoopbackServer, free_port, server_folder, start_prepared
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL

LIMITED_USER = "no_create"
LIMITED_PASSWORD = "limited-pass-1234"
DRIVER = "mysql+pymysql"


def find_server() -> Path | None:
    """The folder of ``mariadbd`` (Debian's mariadb-server puts it in /usr/sbin, off a user's PATH)."""
    found = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    return Path(found).parent if found and shutil.which("mariadb-install-db") else None


def _accepts(port: int) -> bool:
    """Whether the server listens yet (a plain TCP connect: a driver's failed attempts leak sockets)."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Server(LoopbackServer):
    sbin: Path
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    driver = DRIVER

    @property
    def socket(self) -> Path:
        return self.root / "mariadb.sock"

    def databases(self) -> set[str]:
        return {row[0] for row in self.sql("SHOW DATABASES")}

    def _as_root(self, statement: str) -> None:
        """Through the socket as the server's own root account (no password), before users exist."""
        url = URL.create(DRIVER, username="root", query={"unix_socket": str(self.socket)})
        engine = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def prepare(self) -> None:
        """A new data directory (``mariadb-install-db``)."""
        done = subprocess.run(
            [
                "mariadb-install-db", "--no-defaults", f"--datadir={self.root / 'data'}", "--user=root",
                "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
            ],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"mariadb-install-db failed: {done.stderr.strip()[-2000:]}")

    def start(self) -> bool:
        log = open(self.root / "log", "a")  # noqa: SIM115  (the server writes it while it runs)
        self.process = subprocess.Popen(
            [
                str(self.sbin / "mariadbd"), "--no-defaults", f"--datadir={self.root / 'data'}",
                f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
                f"--pid-file={self.root / 'mariadb.pid'}", "--user=root", "--skip-name-resolve",
                "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M", "--max-connections=60",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self.socket.exists() and _accepts(self.port):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(sbin: Path) -> Server:
    """Install a data directory, start on a free port (retrying if another process took it), add the
    test users and the app's database."""
    # As root the server runs as root, else as this user: whatever folder it is given, it may enter.
    root = server_folder("MariaDB", "mariadb-server-", "mariadb.sock", lambda folder: True)
    return start_prepared(Server(sbin, root, free_port()), "MariaDB", _add_users_and_app_database)


def _add_users_and_app_database(server: Server) -> None:
    for statement in (
        f"CREATE USER '{loopback.SUPERUSER}'@'%' IDENTIFIED BY '{loopback.PASSWORD}'",
        f"GRANT ALL PRIVILEGES ON *.* TO '{loopback.SUPERUSER}'@'%' WITH GRANT OPTION",
        f"CREATE USER '{LIMITED_USER}'@'%' IDENTIFIED BY '{LIMITED_PASSWORD}'",
        f"CREATE DATABASE {loopback.APP_DATABASE}",
        f"GRANT ALL PRIVILEGES ON {loopback.APP_DATABASE}.* TO '{LIMITED_USER}'@'%'",
    ):
        server._as_root(statement)
