"""Which stores keep a project's snapshots, chosen by the cache from the kind of shadow database (the
backends only make and remove databases): SQLite's files in the user's cache folder, PostgreSQL's
template databases on the server and then its dumps in the user's cache folder, none for MySQL and
MariaDB."""

from pathlib import Path

import pytest

from flask_makemigrations.cache.postgresql_dumps import DumpFiles
from flask_makemigrations.cache.postgresql_templates import TemplateSnapshots
from flask_makemigrations.cache.shadows import snapshot_stores
from flask_makemigrations.cache.sqlite_files import FileSnapshots
from flask_makemigrations.shadow.backends import parse_database

PROJECT = "0123456789abcdef"


@pytest.mark.parametrize("given", [None, ":memory:", "shadow.sqlite"])
def test_sqlite_keeps_files_in_the_projects_folder_of_the_users_cache(
    given: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    backend = parse_database(given)

    (store,) = snapshot_stores(backend, PROJECT)

    assert isinstance(store, FileSnapshots) and store.backend is backend
    assert store.folder == tmp_path / "flask-makemigrations" / PROJECT
    assert not store.folder.exists()  # nothing is made before a snapshot is saved


def test_postgresql_keeps_templates_on_the_server_of_the_url_then_dumps_in_the_users_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    backend = parse_database("postgresql://u:secret@localhost:1/postgres")

    templates, dumps = snapshot_stores(backend, PROJECT)

    assert isinstance(templates, TemplateSnapshots) and templates.backend is backend
    assert templates.project == PROJECT[:12]  # the part of a template's name that says whose it is
    assert isinstance(dumps, DumpFiles) and dumps.backend is backend
    assert dumps.folder == tmp_path / "flask-makemigrations" / PROJECT


@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_mysql_and_mariadb_keep_none(scheme: str) -> None:
    assert snapshot_stores(parse_database(f"{scheme}://u:secret@localhost:1/db"), PROJECT) == []
