"""A private, throwaway PostgreSQL cluster for the test run.

``initdb`` refuses to run as root (tests and CI do), so as root the server programs run as the
``postgres`` system user, in a temporary directory that user owns, under ``$TMPDIR`` if that user can
enter it, else under ``/tmp``. The server listens on 127.0.0.1 on
a free port with its socket inside that directory, so it never meets another server on the machine,
and each pytest-xdist worker starts its own. Password authentication (scram-sha-256) over TCP makes
the wrong-password case real; a role without CREATEDB makes the permission case real.
"""

import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import loopback
from loopback import LoopbackServer, free_port, server_folder, start_prepared

LIMITED_ROLE = "no_createdb"
LIMITED_PASSWORD = "limited-pass-1234"
#: A role that may create databases but is no superuser: it may drop only the databases it owns.
CREATEDB_ROLE = "createdb_only"
CREATEDB_PASSWORD = "createdb-pass-5678"


def find_bin_dir() -> Path | None:
    """The newest PostgreSQL server programs: on PATH, else Debian's versioned directories."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    candidates.sort(key=lambda bin_dir: int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0)
    return candidates[-1] if candidates else None


@dataclass
class Cluster(LoopbackServer):
    bin_dir: Path
    root: Path
    port: int
    driver = "postgresql"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def databases(self) -> set[str]:
        """Every database but the templates the shadow cache keeps (``templates``): what a run must
        leave as it found it."""
        return {name for name in self._all_databases() if not name.startswith("fmm_cache_")}

    def version(self) -> str:
        return str(self.sql("SHOW server_version", database="postgres")[0][0])

    def templates(self) -> set[str]:
        """The template databases the shadow cache keeps on the server."""
        return {name for name in self._all_databases() if name.startswith("fmm_cache_")}

    def _all_databases(self) -> set[str]:
        return {row[0] for row in self.sql("SELECT datname FROM pg_database", database="postgres")}

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, cwd=self.root, timeout=120)

    def prepare(self) -> None:
        """A new cluster (``initdb``)."""
        pwfile = self.root / "pwfile"
        pwfile.write_text(loopback.PASSWORD + "\n")
        _give_to_server_user(pwfile)
        done = self._run(
            "initdb", "-D", str(self.data), "-U", loopback.SUPERUSER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()}")

    def start(self) -> bool:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        )
        log = str(self.root / "log")
        done = self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        return done.returncode == 0

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _server_user_enters(folder: Path) -> bool:
    """Whether the user the server runs as may enter ``folder`` (and every folder above it)."""
    if os.geteuid() != 0:
        return True  # the server runs as this user
    return subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(folder)]).returncode == 0


def start_cluster(bin_dir: Path) -> Cluster:
    """initdb, start on a free port (retrying if another process took it), and add the test roles."""
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root, but no 'postgres' user exists to run the server") from None
    # The socket is .s.PGSQL.<port>, port at most 5 digits.
    root = server_folder("PostgreSQL", "pg-cluster-", ".s.PGSQL.65535", _server_user_enters)
    _give_to_server_user(root)
    return start_prepared(Cluster(bin_dir, root, free_port()), "PostgreSQL", _add_roles_and_app_database)


def _add_roles_and_app_database(cluster: Cluster) -> None:
    quoted = LIMITED_PASSWORD.replace("'", "''")
    cluster.sql(f"CREATE ROLE {LIMITED_ROLE} LOGIN NOCREATEDB PASSWORD '{quoted}'", database="postgres")
    quoted = CREATEDB_PASSWORD.replace("'", "''")
    cluster.sql(f"CREATE ROLE {CREATEDB_ROLE} LOGIN CREATEDB PASSWORD '{quoted}'", database="postgres")
    cluster.sql(f"CREATE DATABASE {loopback.APP_DATABASE}", database="postgres")
