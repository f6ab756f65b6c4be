"""The shadow cache end to end: what a second run reuses, and what makes it build cold again.

Through the engine's API in this process (``Result.built`` says how the shadow database reached
head); the summary line and ``invoke cache --clear`` as that front end's own functions render them;
a real process where the hash seed (fixed at its start) is what changes.
"""

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import HEAD, ProjectCopy, Run, dry_run_script, shadow_build, synthetic_project
from sqlalchemy import event
from sqlalchemy.engine import Engine

from flask_makemigrations import Result

SUMMARY = re.compile(
    r"^Shadow database at head: (?:restored at (\S+) from the cache, then )?(\d+) revision", re.M
)


def built(result: Result) -> tuple[str | None, int]:
    """(revision restored from the cache or None, revisions applied)."""
    return shadow_build(result).restored, shadow_build(result).applied


def check(project: ProjectCopy, use_cache: bool = True) -> Result:
    return project.make_migrations(check=True, verify=False, use_cache=use_cache)


def snapshots(project: ProjectCopy) -> list[Path]:
    return sorted(project.home.glob(".cache/flask-makemigrations/*/*.sqlite"))


@pytest.mark.version_independent  # what the engine reports is tested above, in every session
def test_the_summary_line_says_how_the_shadow_database_reached_head(project: ProjectCopy) -> None:
    cold = project.makemigrations_shown(check=True, verify=False)
    warm = project.makemigrations_shown(check=True, verify=False)

    assert cold.returncode == warm.returncode == 0, warm.stderr
    cold_summary, warm_summary = SUMMARY.search(cold.stderr), SUMMARY.search(warm.stderr)
    assert cold_summary is not None and cold_summary.groups() == (None, "2")
    assert warm_summary is not None and warm_summary.groups() == (HEAD, "0")


def test_an_unchanged_history_is_restored_whole(project: ProjectCopy) -> None:
    assert built(check(project)) == (None, 2)
    assert built(check(project)) == (HEAD, 0)
    assert len(snapshots(project)) == 1


def test_a_version_table_of_its_own_is_restored_too(project: ProjectCopy) -> None:
    """``Migrate(version_table=...)``: the snapshot's revision is read from the table the project uses."""
    project.edit(
        "app/extensions.py", "compare_type=True)", 'compare_type=True, version_table="schema_versions")'
    )
    assert built(check(project)) == (None, 2)
    assert built(check(project)) == (HEAD, 0)
    assert built(check(project)) == (HEAD, 0)


def test_a_cache_folder_whose_path_needs_quoting_in_a_uri_is_used(project: ProjectCopy) -> None:
    """Snapshots are opened by ``file:`` URI (read-only), where a space or an accent is escaped."""
    cache_home = project.home / "caché dir"
    env = {"XDG_CACHE_HOME": str(cache_home)}
    for expected in [(None, 2), (HEAD, 0)]:
        assert built(project.make_migrations(check=True, verify=False, env=env)) == expected
    assert list(cache_home.glob("flask-makemigrations/*/*.sqlite"))


def test_a_grown_history_reuses_its_deepest_cached_revision(project: ProjectCopy) -> None:
    check(project)
    project.add_revision("0003_more", HEAD)
    assert built(check(project)) == (HEAD, 1)
    assert built(check(project)) == ("0003_more", 0)


def test_editing_an_old_revision_or_env_py_builds_cold(project: ProjectCopy) -> None:
    check(project)
    first = next(project.versions.glob("0001_*.py"))
    first.write_text(first.read_text() + "\n# reviewed\n")
    assert built(check(project)) == (None, 2)

    check(project)
    env = project.migrations / "env.py"
    env.write_text(env.read_text() + "\n# reviewed\n")
    assert built(check(project)) == (None, 2)


def test_a_corrupt_snapshot_is_ignored_and_replaced(project: ProjectCopy) -> None:
    project.add_email_column()
    first = check(project)
    (snapshot,) = snapshots(project)
    snapshot.write_bytes(b"\0garbage" * 512)

    second = check(project)

    assert built(second) == (None, 2)
    assert second.operations == first.operations == ["+ column user.email"]
    assert built(check(project)) == (HEAD, 0)


def test_no_cache_neither_reads_nor_writes_snapshots(project: ProjectCopy) -> None:
    assert built(check(project, use_cache=False)) == (None, 2)
    assert snapshots(project) == []


def test_cold_and_warm_runs_write_the_same_file(project: ProjectCopy) -> None:
    project.add_email_column()
    options: dict[str, Any] = dict(dry_run=True, rev_id="fixed0001")
    cold = project.make_migrations("add email", **options, use_cache=False)
    project.make_migrations("add email", **options)  # fills the cache
    warm = project.make_migrations("add email", **options)

    assert built(warm) == (HEAD, 0)

    def without_date(script: str) -> str:
        return re.sub(r"Create Date: .*", "", script)

    assert "add_column" in dry_run_script(cold)
    assert without_date(dry_run_script(warm)) == without_date(dry_run_script(cold))


@pytest.mark.version_independent  # file handling of this package's own
def test_cache_clear_removes_every_snapshot(project: ProjectCopy) -> None:
    check(project)
    assert snapshots(project)
    cleared = project.cache_shown(clear=True)
    assert cleared.returncode == 0, cleared.stderr
    assert "Removed 1 snapshot(s)" in cleared.stdout
    assert snapshots(project) == []


def models_schemas_kept(project: ProjectCopy) -> list[Path]:
    """The models' schemas kept whole (not the file of the tables' shapes)."""
    kept = project.home.glob(".cache/flask-makemigrations/models/*.json")
    return sorted(path for path in kept if path.name != "model_tables.json")


def verified_check(project: ProjectCopy, **options: Any) -> Result:
    return project.make_migrations(dry_run=True, **options)


def test_the_models_schema_is_reused_until_the_models_change(project: ProjectCopy) -> None:
    project.add_email_column()
    written = project.make_migrations("add email")
    (kept,) = models_schemas_kept(project)
    again = verified_check(project)
    assert models_schemas_kept(project) == [kept]
    assert (written.differences, again.operations, again.differences) == ([], [], [])

    # A change autogenerate does not see (no compare_server_default) and verification does: the
    # models' schema has a key of its own, and the difference is found (and written: drift.py).
    email = "email = db.Column(db.String(120))"
    project.edit("app/models.py", email, email[:-1] + ', server_default="x")')
    changed = verified_check(project)
    assert len(models_schemas_kept(project)) == 2
    assert (changed.operations, changed.differences) == (["~ column user.email (server default)"], [])


@contextmanager
def models_tables_created() -> Iterator[list[str]]:
    """The example's tables (``user``, ``post``) created while the block runs: on SQLite in a warm run,
    only the models' database creates them (the shadow database's batch copies are ``_alembic_tmp_``)."""
    created: list[str] = []

    def record(*args: Any) -> None:  # conn, cursor, statement, parameters, context, executemany
        found = re.match(r'\s*CREATE TABLE "?(\w+)"? ', str(args[2]))
        if found and found[1] in ("user", "post"):
            created.append(found[1])

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield created
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_after_an_edit_only_the_tables_whose_statements_changed_are_built_from_the_models(
    project: ProjectCopy,
) -> None:
    """The others' shapes come from the cache, by each table's own key, and the run finds what a run
    that builds every table finds. ``post`` refers to ``user``: editing ``post`` would build both."""
    verified_check(project)  # every table built, and kept by its key
    project.add_email_column()  # user's statements change, post's do not

    with models_tables_created() as created:
        edited = verified_check(project)
    every = verified_check(project, use_cache=False)

    assert created == ["user"]
    assert (edited.operations, edited.differences) == (every.operations, every.differences)
    assert edited.operations == ["+ column user.email"] and edited.differences == []


@pytest.mark.version_independent  # the seal of this package's own files
def test_a_models_schema_that_does_not_load_is_built_again(project: ProjectCopy) -> None:
    project.add_email_column()
    cold = verified_check(project)
    (kept,) = models_schemas_kept(project)
    kept.write_bytes(b"not JSON")
    again = verified_check(project)
    assert (again.operations, again.differences) == (cold.operations, cold.differences)
    assert kept.read_bytes() != b"not JSON"  # built, and kept again


def _narrowed_column(text: str) -> str:
    """The kept file with one column's type edited: valid JSON of the very shape, not what was written."""
    assert "VARCHAR(120)" in text
    return text.replace("VARCHAR(120)", "VARCHAR(12)")


@pytest.mark.version_independent  # the seal of this package's own files
@pytest.mark.parametrize(
    "edit",
    [lambda text: "{}", lambda text: "[]", lambda text: "null", _narrowed_column],
    ids=["empty-object", "list", "null", "edited-column"],
)
def test_a_models_schema_file_not_exactly_as_written_is_a_miss(
    project: ProjectCopy, edit: Callable[[str], str]
) -> None:
    """Never an answer: ``{}`` would say the models have no table (a false difference for each)."""
    project.add_email_column()
    cold = verified_check(project)
    (kept,) = models_schemas_kept(project)
    written = kept.read_text()
    kept.write_text(edit(written))

    again = verified_check(project)

    assert again.operations == cold.operations and again.differences == cold.differences == []
    assert kept.read_text() == written  # built, and kept again


def test_the_models_schema_of_tables_with_several_indexes_has_one_key(tmp_path: Path) -> None:
    """``create_all`` creates a table's indexes in the order of a set, which changes with each
    process's hash seed: the key must not. After a cold run, three warm runs leave one models' file,
    and the third neither builds the models' database again (its file untouched) nor applies a
    revision."""
    project = synthetic_project(tmp_path, 8)  # two tables of four indexes and two unique constraints

    def run(seed: str) -> Run:
        return project.invoke("makemigrations", "--check", "--format", "json", env={"PYTHONHASHSEED": seed})

    runs = [run(seed) for seed in ("0", "1", "2")]
    (kept,) = models_schemas_kept(project)
    before = kept.stat()
    runs.append(run("3"))

    assert [run.returncode for run in runs] == [1, 1, 1, 1], runs[-1].stderr
    assert models_schemas_kept(project) == [kept]
    assert (kept.stat().st_ino, kept.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert json.loads(runs[-1].stdout)["shadow"]["applied"] == 0


def test_models_schemas_are_not_kept_with_include_object_or_no_cache(project: ProjectCopy) -> None:
    verified_check(project, use_cache=False)
    assert models_schemas_kept(project) == []
    project.edit(
        "migrations/env.py",
        "def run_migrations_online():",
        "def include_object(obj, name, type_, reflected, compare_to):\n    return True\n\n\n"
        "def run_migrations_online():",
    )
    project.edit(
        "migrations/env.py", "**conf_args", "include_object=include_object,\n                **conf_args"
    )
    verified_check(project)
    assert models_schemas_kept(project) == []  # the filter is code the key cannot see
    assert not (project.home / ".cache" / "flask-makemigrations" / "models" / "model_tables.json").exists()


@pytest.mark.version_independent
def test_cache_clear_removes_the_models_schemas_too(project: ProjectCopy) -> None:
    verified_check(project)
    models = project.home / ".cache" / "flask-makemigrations" / "models"
    assert models_schemas_kept(project) and (models / "model_tables.json").is_file()
    assert project.cache_shown(clear=True).returncode == 0
    assert list(models.iterdir()) == []  # the tables' shapes too
