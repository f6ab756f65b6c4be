"""The shadow cache's keys and snapshots, on real SQLite files and a real Alembic history."""

import contextlib
import json
import re
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from conftest import HEAD, REPO, ProjectCopy, Tmpfs, shadow_build
from pg_cluster import Cluster
from sqlalchemy.engine import URL

from flask_makemigrations.cache.keys import revision_keys
from flask_makemigrations.cache.shadows import ShadowCache, clear_cache
from flask_makemigrations.cache.sqlite_files import FileSnapshots
from flask_makemigrations.shadow.backend import ShadowDatabase
from flask_makemigrations.shadow.backends.sqlite import SQLiteFile


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", path, ignore=shutil.ignore_patterns("__pycache__"))
    return path


def file_cache(folder: Path, keep: int = 3) -> ShadowCache:
    """A cache of snapshot files in ``folder``."""
    return ShadowCache([FileSnapshots(folder, SQLiteFile())], keep)


def folder_of(cache: ShadowCache) -> Path:
    """The folder of a cache of snapshot files."""
    (store,) = cache.stores
    assert isinstance(store, FileSnapshots)
    return store.folder


def keys_of(migrations: Path) -> dict[str, str]:
    return revision_keys(ScriptDirectory(str(migrations)), migrations, "sqlite")


def shadow_at(folder: Path, revision: str | None) -> ShadowDatabase:
    """A SQLite shadow database file at ``revision`` (None: empty), as the SQLite backend made it."""
    path = folder / f"shadow-{uuid.uuid4().hex}.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        if revision is not None:
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            connection.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
            connection.commit()
    return ShadowDatabase(URL.create("sqlite", database=str(path)), folder, SQLiteFile())


def version_of(shadow: ShadowDatabase) -> str:
    assert shadow.url.database is not None
    with contextlib.closing(sqlite3.connect(shadow.url.database)) as connection:
        version: str = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        return version


def test_editing_a_revision_changes_its_key_and_its_descendants_only(migrations: Path) -> None:
    before = keys_of(migrations)
    first = next(migrations.glob("versions/0001_*.py"))
    first.write_text(first.read_text() + "\n# edited\n")
    after = keys_of(migrations)
    assert after["0001_users"] != before["0001_users"]
    assert after["0002_posts"] != before["0002_posts"]

    second = next(migrations.glob("versions/0002_*.py"))
    second.write_text(second.read_text() + "\n# edited\n")
    assert keys_of(migrations)["0001_users"] == after["0001_users"]


def test_env_py_alembic_ini_the_dialect_and_the_template_are_in_every_key(migrations: Path) -> None:
    before = keys_of(migrations)
    assert revision_keys(ScriptDirectory(str(migrations)), migrations, "postgresql") != before
    (migrations / "env.py").write_text((migrations / "env.py").read_text() + "\n# edited\n")
    assert set(keys_of(migrations).values()).isdisjoint(before.values())
    edited = keys_of(migrations)
    (migrations / "alembic.ini").write_text((migrations / "alembic.ini").read_text() + "\n# edited\n")
    assert set(keys_of(migrations).values()).isdisjoint(edited.values())


def test_restore_finds_the_deepest_snapshot_after_the_history_grew(tmp_path: Path, migrations: Path) -> None:
    cache = file_cache(tmp_path / "cache")
    keys = keys_of(migrations)
    cache.save(keys["0001_users"], {None: shadow_at(tmp_path, "0001_users")})

    target = shadow_at(tmp_path, None)
    assert cache.restore(keys, ["0002_posts", "0001_users"], {None: target}) == "0001_users"
    assert version_of(target) == "0001_users"

    cache.save(keys["0002_posts"], {None: shadow_at(tmp_path, "0002_posts")})
    target = shadow_at(tmp_path, None)
    assert cache.restore(keys, ["0002_posts", "0001_users"], {None: target}) == "0002_posts"
    assert version_of(target) == "0002_posts"


def test_a_corrupt_or_mislabelled_snapshot_is_discarded(tmp_path: Path, migrations: Path) -> None:
    cache = file_cache(tmp_path / "cache")
    keys = keys_of(migrations)
    cache.save(keys["0002_posts"], {None: shadow_at(tmp_path, "0002_posts")})
    (folder_of(cache) / f"{keys['0002_posts']}.sqlite").write_bytes(b"not a database at all" * 100)
    cache.save(
        keys["0001_users"], {None: shadow_at(tmp_path, "0002_posts")}
    )  # says it is at another revision

    assert cache.restore(keys, ["0002_posts", "0001_users"], {None: shadow_at(tmp_path, None)}) is None
    assert list(folder_of(cache).glob("*.sqlite")) == []


@pytest.mark.version_independent  # file handling of this package's own
def test_size_is_bounded_and_clear_empties_the_cache(tmp_path: Path) -> None:
    cache = file_cache(tmp_path / "cache" / "project", keep=2)
    for number in range(4):
        cache.save(f"key{number}", {None: shadow_at(tmp_path, f"r{number}")})
    assert len(list(folder_of(cache).glob("*.sqlite"))) == 2
    assert clear_cache(tmp_path / "cache") == 2
    assert list(folder_of(cache).glob("*.sqlite")) == []


# -- what Migrate(...) gives env.py is in the key -------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        'version_table="schema_versions"',
        'version_table_schema="main"',
        "include_schemas=True",
        "transaction_per_migration=True",
    ],
)
def test_a_migrate_setting_changed_after_a_warm_run_builds_as_without_the_cache(
    project: ProjectCopy, setting: str
) -> None:
    """``Migrate(...)``'s options reach env.py's ``context.configure``: where the version is kept and
    what the history builds. Changed after the cache was filled, the next run answers as ``--no-cache``
    does (the snapshot of the old settings is not used), and is cached in turn."""
    project.make_migrations(check=True, verify=False)
    assert shadow_build(project.make_migrations(check=True, verify=False)).restored == HEAD
    project.edit("app/extensions.py", "compare_type=True)", f"compare_type=True, {setting})")

    warm = project.make_migrations(check=True, verify=False)
    cold = project.make_migrations(check=True, verify=False, use_cache=False)
    assert (warm.operations, shadow_build(warm).restored, shadow_build(warm).applied) == (
        cold.operations,
        None,
        2,
    )
    assert shadow_build(project.make_migrations(check=True, verify=False)).restored == HEAD


# -- a cache file of the wrong shape is a miss --------------------------------------------------


def _wrongly_typed(value: Any) -> Any:
    """The same structure with every string a number and every number a string."""
    if isinstance(value, dict):
        return {key: _wrongly_typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wrongly_typed(item) for item in value]
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


#: Ways an entry can be valid JSON of the wrong shape.
_WRONG_SHAPES: dict[str, Callable[[Any], Any]] = {
    "types": _wrongly_typed,
    "empty-object": lambda entry: {},
    "empty-list": lambda entry: [],
    "number": lambda entry: 5,
    "extra-key": lambda entry: {**entry, "extra": 1} if isinstance(entry, dict) else [*entry, 1],
}


@pytest.mark.version_independent  # the seal of this package's own files
@pytest.mark.parametrize("wrong", list(_WRONG_SHAPES))
@pytest.mark.parametrize("name", ["headers.json", "reflected.json", "tables.json"])
def test_a_cache_file_of_the_wrong_shape_is_a_miss(project: ProjectCopy, name: str, wrong: str) -> None:
    """Each of the project's cache files, its container intact (format, salt) and every entry valid
    JSON of another shape: the run answers as without the cache, and the next one is cached again."""
    project.add_email_column()
    cold = project.make_migrations(dry_run=True, use_cache=False)
    project.make_migrations(dry_run=True)  # fills the cache
    (path,) = project.home.glob(f".cache/flask-makemigrations/*/{name}")
    stored = json.loads(path.read_text())
    assert stored["entries"], stored
    stored["entries"] = {key: _WRONG_SHAPES[wrong](entry) for key, entry in stored["entries"].items()}
    path.write_text(json.dumps(stored))

    warm = project.make_migrations(dry_run=True)
    assert (warm.operations, warm.differences, warm.warnings) == (
        cold.operations,
        cold.differences,
        cold.warnings,
    )
    assert shadow_build(project.make_migrations(dry_run=True)).restored == HEAD


# -- the cache folder and the cache task --------------------------------------------------------


@pytest.mark.version_independent  # file handling of this package's own
def test_cache_clear_on_a_read_only_cache_folder_is_one_line_naming_the_file(
    project: ProjectCopy, tmpfs: Callable[..., Tmpfs]
) -> None:
    """A read-only mount binds root too; what could not be removed is named, the rest is kept."""
    project.make_migrations(check=True, verify=False)
    cache = project.home / ".cache" / "flask-makemigrations"
    (project_folder,) = cache.iterdir()
    tmpfs(project_folder).make_read_only()
    kept = sorted(project_folder.iterdir())

    error = project.refused_shown(project.cache_shown, clear=True)

    assert re.fullmatch(
        rf"Error: removing {re.escape(str(project_folder))}/\S+ failed: Read-only file system", error
    ), error
    assert sorted(project_folder.iterdir()) == kept


@pytest.mark.version_independent  # the cache folder's choice: this package's own
def test_a_relative_xdg_cache_home_is_ignored(project: ProjectCopy) -> None:
    """The XDG specification: a relative $XDG_CACHE_HOME is invalid and is ignored (~/.cache then)."""
    env = {"XDG_CACHE_HOME": "relative-cache"}
    project.make_migrations(check=True, verify=False, env=env)
    assert shadow_build(project.make_migrations(check=True, verify=False, env=env)).restored == HEAD
    assert not (project.root / "relative-cache").exists()
    assert list(project.home.glob(".cache/flask-makemigrations/*/*.sqlite"))


@pytest.mark.version_independent  # the cache task's own check
def test_the_cache_task_says_the_migrations_directory_it_was_given_does_not_exist(
    project: ProjectCopy,
) -> None:
    error = project.refused_shown(project.cache_shown, directory="elsewhere/migrations")
    assert (
        error == "Error: elsewhere/migrations does not exist: pass the migrations directory with --directory"
    )
    shown = project.cache_shown(directory="migrations")
    assert shown.returncode == 0 and "This project (migrations): " in shown.stdout, shown.stderr


def test_a_version_table_changed_after_a_warm_run_on_postgresql(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """The same key names PostgreSQL's template databases: a changed setting is not answered from one."""
    where = {"database": postgres.url_string()}
    project.make_migrations(check=True, verify=False, where=where)
    assert shadow_build(project.make_migrations(check=True, verify=False, where=where)).restored == HEAD
    project.edit(
        "app/extensions.py", "compare_type=True)", 'compare_type=True, version_table="schema_versions")'
    )

    warm = project.make_migrations(check=True, verify=False, where=where)
    cold = project.make_migrations(check=True, verify=False, where=where, use_cache=False)
    assert (warm.operations, shadow_build(warm).restored, shadow_build(warm).applied) == (
        cold.operations,
        None,
        2,
    )
    assert shadow_build(project.make_migrations(check=True, verify=False, where=where)).restored == HEAD
