"""The test servers start wherever the suite runs: here with ``$TMPDIR`` deep inside a folder only root
may enter (a private ``mktemp -d`` folder), which the PostgreSQL server, run as ``postgres``, cannot
enter, and where a server's socket path would pass the 107 characters a Unix socket may have."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from loopback import APP_DATABASE, LoopbackServer, stop_and_remove
from mariadb_server import find_server, start_server
from pg_cluster import find_bin_dir, start_cluster

pytestmark = pytest.mark.version_independent  # the fixtures, not the package


@pytest.fixture
def private_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$TMPDIR`` two levels inside a root-owned folder of mode 0700, for this process."""
    if os.geteuid() != 0:
        pytest.skip("only a server run as another user than the tests' meets a folder only root may enter")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o700)
    inside = private / "tmp"
    inside.mkdir()
    monkeypatch.setenv("TMPDIR", str(inside))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read $TMPDIR again
    return inside


@pytest.mark.parametrize(
    ("find", "start", "database", "product"),
    [
        (find_bin_dir, start_cluster, "postgres", "PostgreSQL"),
        (find_server, start_server, APP_DATABASE, "MariaDB"),
    ],
    ids=["postgresql", "mariadb"],
)
def test_a_server_starts_with_tmpdir_in_a_private_folder(
    private_tmpdir: Path,
    find: Callable[[], Path | None],
    start: Callable[[Path], LoopbackServer],
    database: str,
    product: str,
) -> None:
    programs = find()
    if programs is None:
        pytest.skip(f"{product} is not installed")
    server = start(programs)
    try:
        assert server.sql("SELECT 1", database=database) == [(1,)]
    finally:
        stop_and_remove(server)
