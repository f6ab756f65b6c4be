"""PostgreSQL's portable snapshots: the shadow database at a revision as ``pg_dump`` writes it, kept in
the user's cache folder beside the server's template database.

A template lives and dies with its server; CI starts a fresh PostgreSQL service for every job but
caches the home folder. So next to each template the cache keeps ``<key>.pgdump`` (``+<bind's hash>``
for a bind's): the database's whole dump (schema and rows, so that the version table and any rows a
data migration added come back too, as a template copy brings them), without owners or privileges
(the role may differ), made and restored with the server's own client programs (``pg_dump``,
``psql``) of the server's major version, and the catalog's fingerprint of the schema it was taken
from (``PostgreSQLImpl.schema_fingerprint``). A restore is used only if the file is sealed as written,
records the server's major version, ``psql`` applies all of it in one transaction, the restored
schema has the recorded fingerprint and its version table is at the revision its key says; anything
else leaves the shadow database empty again and the run builds cold.
"""

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from ..dialects.postgresql import PostgreSQLImpl
from ..errors import on_disk
from ..shadow.backend import ShadowDatabase
from ..shadow.backends.postgresql import PostgreSQL
from ..shadow.server import connect
from .files import keep_salted_entries, salted_entries, user_cache_dir
from .postgresql_templates import read_shadow, versions_in
from .snapshots import FolderSnapshots, bind_suffix

#: The files' format: a file of another format is a miss.
FORMAT = 1
SUFFIX = ".pgdump"
#: Seconds a dump or a restore may take before the cache gives up on it (the run builds cold).
TIMEOUT = 300

#: Where PostgreSQL's packages put each major version's client programs, beside the ones on PATH.
_VERSIONED_BIN_DIRS = (
    "/usr/lib/postgresql/{major}/bin",  # Debian, Ubuntu
    "/usr/pgsql-{major}/bin",  # the PGDG packages of Red Hat's family
    "/opt/homebrew/opt/postgresql@{major}/bin",  # Homebrew on Apple silicon
    "/usr/local/opt/postgresql@{major}/bin",  # Homebrew on Intel
)
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


@dataclass(frozen=True)
class ClientPrograms:
    """``pg_dump`` and ``psql`` of one major version."""

    folder: Path

    def dump(self, url: URL) -> str:
        """The database's plain SQL dump, without owners or privileges."""
        return self._run("pg_dump", url, "--no-owner", "--no-privileges")

    def restore(self, url: URL, dump: str) -> None:
        """``dump`` applied whole or not at all; a statement that fails stops it."""
        self._run("psql", url, "--no-psqlrc", "--quiet", "--single-transaction",
                  "--set", "ON_ERROR_STOP=1", "--file", "-", given=dump)  # fmt: skip

    def _run(self, program: str, url: URL, *options: str, given: str | None = None) -> str:
        """Run ``program`` on ``url``'s database: the password in the environment (never on a
        command line that ``ps`` shows), the rest as a libpq connection URI; its failure is an
        ``OSError``, which the cache takes as a miss."""
        conninfo = URL.create(
            "postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
            query=url.query,
        ).render_as_string(hide_password=False)  # fmt: skip
        environment = {**os.environ, "PGPASSWORD": str(url.password or "")}
        try:
            done = subprocess.run(
                [str(self.folder / program), *options, "--dbname", conninfo],
                input=given, capture_output=True, text=True, env=environment, timeout=TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise OSError(f"{program} took more than {TIMEOUT} seconds") from None
        if done.returncode != 0:
            raise OSError(f"{program} failed: {done.stderr.strip()}")
        return done.stdout


def client_programs(major: int) -> ClientPrograms | None:
    """The client programs of PostgreSQL ``major`` (a dump is made and restored only by the server's
    own major version: an older ``pg_dump`` refuses a newer server, a newer one writes SQL an older
    server may not read): the first of PATH's and the packages' versioned folders whose ``pg_dump``
    and ``psql`` both say they are of that version; None if there is none."""
    on_path = shutil.which("pg_dump")
    folders = [Path(on_path).parent] if on_path else []
    folders += [Path(path.format(major=major)) for path in _VERSIONED_BIN_DIRS]
    for folder in folders:
        if all(_major_of(folder / program) == major for program in ("pg_dump", "psql")):
            return ClientPrograms(folder)
    return None


@functools.cache
def _major_of(program: Path) -> int | None:
    """The major version a client program reports, or None if it does not run."""
    if not program.is_file():
        return None
    try:
        done = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    found = _VERSION.search(done.stdout)
    return int(found[1]) if found and done.returncode == 0 else None


class DumpFiles(FolderSnapshots):
    """One project's portable snapshots, in its folder of the user's cache folder."""

    suffix = SUFFIX

    def __init__(self, folder: Path, backend: PostgreSQL):
        super().__init__(folder)
        self.backend = backend
        self._server_major: int | None = None  # read once, when a snapshot is first looked for

    @classmethod
    def of_project(cls, project: str, backend: PostgreSQL) -> "DumpFiles":
        return cls(user_cache_dir() / project, backend)

    def _programs(self) -> ClientPrograms | None:
        if self._server_major is None:
            with connect(self.backend) as server:
                self._server_major = server.run("reading the server's version", _major_version)
        return client_programs(self._server_major)

    def has(self, key: str, bind: str | None) -> bool:
        """A file, and the programs to restore it on this server (without them it is kept for a
        machine that has them)."""
        return super().has(key, bind) and self._programs() is not None

    def save(self, key: str, bind: str | None, shadow: ShadowDatabase) -> bool:
        programs = self._programs()
        if programs is None:
            return False
        dump = programs.dump(shadow.url)
        fingerprint = _fingerprint(shadow)
        if fingerprint is None:
            return False
        entries = {"major": self._server_major, "fingerprint": fingerprint, "dump": dump}
        keep_salted_entries(self._path(key, bind), _salt(key, bind), entries)
        return True

    def restore(self, key: str, bind: str | None, shadow: ShadowDatabase, revision: str) -> bool:
        """Apply the dump to the new shadow database (made now, empty, if it was not yet), and keep it
        only if it is what was dumped; else the shadow database is emptied again."""
        entries = salted_entries(self._path(key, bind), _salt(key, bind))
        programs = self._programs()
        if programs is None or entries.get("major") != self._server_major:
            return False
        try:
            shadow.make()  # psql reaches it past the guard
            programs.restore(shadow.url, str(entries.get("dump")))
            if _fingerprint(shadow) == entries.get("fingerprint") and versions_in(shadow) == [revision]:
                return True
        except OSError:  # psql refused it (a program of another minor version, say)
            pass
        self.backend.empty(shadow)
        return False


def dump_sets(folder: Path) -> int:
    """How many portable snapshot sets a project's folder holds (``invoke cache``)."""
    return sum("+" not in path.name for path in folder.glob(f"*{SUFFIX}"))


def clear_dumps(root: Path | None = None) -> int:
    """Remove every project's portable snapshots from the cache folder; return how many sets there were."""
    removed = 0
    with on_disk("removing"):  # a read-only cache folder: the file that could not be removed
        for path in (root or user_cache_dir()).glob(f"*/*{SUFFIX}"):
            path.unlink(missing_ok=True)
            removed += "+" not in path.name
    return removed


def _salt(key: str, bind: str | None) -> str:
    """What a file's entries are of: the format, the key and the bind (a file renamed is a miss)."""
    return f"{FORMAT}|{key}|{bind_suffix(bind)}"


def _major_version(connection: sa.engine.Connection) -> int:
    return int(connection.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000


def _fingerprint(shadow: ShadowDatabase) -> str | None:
    """The shadow database's schema fingerprint, or None if it cannot be read."""
    return read_shadow(shadow, PostgreSQLImpl.schema_fingerprint)
