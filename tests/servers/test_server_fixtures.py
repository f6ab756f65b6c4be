"""The test servers start wherever the suite runs: here with ``$TMPDIR`` deep inside a folder only root
may enter (a private ``mktemp -d`` folder), which the PostgreSQL server, run as ``postgres``, cannot
enter, and where a server's socket path would pass the 107 characters a Unix socket may have."""

import os
import tempfile
from pathlib import Path

import pytest
from mariadb_server import find_server, start_server, stop_server
from pg_cluster import find_bin_dir, start_cluster, stop_cluster

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


def test_a_postgresql_cluster_starts_with_tmpdir_in_a_private_folder(private_tmpdir: Path) -> None:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed")
    cluster = start_cluster(bin_dir)
    try:
        assert cluster.sql("SELECT 1", database="postgres") == [(1,)]
    finally:
        stop_cluster(cluster)


def test_a_mariadb_server_starts_with_tmpdir_in_a_private_folder(private_tmpdir: Path) -> None:
    sbin = find_server()
    if sbin is None:
        pytest.skip("MariaDB is not installed")
    server = start_server(sbin)
    try:
        assert server.sql("SELECT 1") == [(1,)]
    finally:
        stop_server(server)
