"""Which store keeps a project's snapshots, chosen by the cache from the kind of shadow database (the
backends only make and remove databases): SQLite's files in the user's cache folder, PostgreSQL's
template databases on the server, none for MySQL and MariaDB."""

from pathlib import Path

import pytest

from flask_makemigrations.cache.postgresql_templates import TemplateSnapshots
from flask_makemigrations.cache.shadows import snapshot_store
from flask_makemigrations.cache.sqlite_files import FileSnapshots
from flask_makemigrations.shadow.backends import parse_database

PROJECT = "0123456789abcdef"


@pytest.mark.parametrize("given", [None, ":memory:", "shadow.sqlite"])
def test_sqlite_keeps_files_in_the_projects_folder_of_the_users_cache(
    given: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    backend = parse_database(given)

    store = snapshot_store(backend, PROJECT)

    assert isinstance(store, FileSnapshots) and store.backend is backend
    assert store.folder == tmp_path / "flask-makemigrations" / PROJECT
    assert not store.folder.exists()  # nothing is made before a snapshot is saved


def test_postgresql_keeps_templates_on_the_server_of_the_url() -> None:
    backend = parse_database("postgresql://u:secret@localhost:1/postgres")

    store = snapshot_store(backend, PROJECT)

    assert isinstance(store, TemplateSnapshots) and store.backend is backend
    assert store.project == PROJECT[:12]  # the part of a template's name that says whose it is


@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_mysql_and_mariadb_keep_none(scheme: str) -> None:
    assert snapshot_store(parse_database(f"{scheme}://u:secret@localhost:1/db"), PROJECT) is None
