"""The shadow cache on a PostgreSQL server: template databases (``fmm_cache_...``) that warm runs copy,
and the portable dumps beside them in the user's cache folder that a new server restores.

Every reuse is checked to change no result: a warm run gives what a cold one gives, a template that
is not at its revision is discarded, a dump that is not what was dumped too, two runs at once both
succeed, and only ``cache --clear --database`` removes templates (``prune`` never does).
"""

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import HEAD, ProjectCopy, dry_run_script, findings, finish, shadow_build
from loopback import stop_and_remove
from pg_cluster import LIMITED_ROLE, Cluster, start_cluster
from server_runs import make
from sqlalchemy import event
from sqlalchemy.engine import Engine

from flask_makemigrations.cache.files import keep_salted_entries, salted_entries
from flask_makemigrations.cache.postgresql_dumps import SUFFIX
from flask_makemigrations.cache.postgresql_templates import PREFIX, SPARE
from flask_makemigrations.run.run import Built

#: What differs between two scripts for the same change: the revision id and the date.
VOLATILE = re.compile(r"Create Date: .*|revision = .*|Revision ID: .*")


def project_templates(postgres: Cluster) -> set[str]:
    return {name for name in postgres.templates() if name.startswith(PREFIX)}


def dumps(project: ProjectCopy) -> list[Path]:
    """The portable snapshots in the project's user cache folder."""
    return sorted((project.home / ".cache" / "flask-makemigrations").glob(f"*/*{SUFFIX}"))


def drop_templates(postgres: Cluster) -> None:
    for name in postgres.templates():
        postgres.sql(f'DROP DATABASE "{name}"', database="postgres")


@pytest.fixture
def new_server(postgres: Cluster) -> Iterator[Cluster]:
    """A second private server of the same version, which has never seen the project."""
    cluster = start_cluster(postgres.bin_dir)
    yield cluster
    stop_and_remove(cluster)


def test_a_new_server_starts_warm_from_the_portable_snapshot_and_keeps_it_as_a_template(
    project: ProjectCopy, postgres: Cluster, new_server: Cluster
) -> None:
    project.add_email_column()
    cold = make(project, postgres, dry_run=True)
    (dump,) = dumps(project)
    databases = new_server.databases()

    fresh = make(project, new_server, dry_run=True)

    assert shadow_build(cold).restored is None and shadow_build(fresh) == Built(0, HEAD)
    assert (fresh.operations, fresh.differences) == (cold.operations, cold.differences)
    assert fresh.warnings == cold.warnings and [w.kind for w in findings(cold.warnings)] == [
        "lock_timeout_missing"
    ]
    assert VOLATILE.sub("", dry_run_script(fresh)) == VOLATILE.sub("", dry_run_script(cold))
    assert dumps(project) == [dump] and new_server.databases() == databases
    # The restored database became the server's template: the next run there copies it, and makes
    # the spare copy only a template's restore makes.
    (template,) = new_server.templates()
    again = make(project, new_server, dry_run=True)
    assert shadow_build(again) == Built(0, HEAD) and again.operations == cold.operations
    assert new_server.templates() == {template, template + SPARE} and dumps(project) == [dump]


def entries_of(dump: Path) -> dict[str, object]:
    """A portable snapshot's entries, read as the cache reads them (none if its seal is broken)."""
    return salted_entries(dump, json.loads(dump.read_text().partition(', "entries": ')[0] + "}")["salt"])


def _edited(path: Path) -> None:
    path.write_text(path.read_text().replace("CREATE TABLE", "CREATE  TABLE", 1))


def _resealed(change: Callable[[dict[str, object]], None]) -> Callable[[Path], None]:
    """A file rewritten with its seal made good again, so that only the check after the restore can
    find what changed."""

    def tamper(path: Path) -> None:
        salt = json.loads(path.read_text().partition(', "entries": ')[0] + "}")["salt"]
        entries = entries_of(path)
        change(entries)
        keep_salted_entries(path, salt, entries)

    return tamper


@pytest.mark.version_independent
@pytest.mark.parametrize(
    "tamper",
    [
        _edited,
        _resealed(lambda entries: entries.update(dump=f"{entries['dump']}\nCREATE TABLE tampered (id int);")),
        _resealed(lambda entries: entries.update(major=int(str(entries["major"])) - 1)),
    ],
    ids=["edited", "other schema", "other major version"],
)
def test_a_portable_snapshot_that_is_not_what_was_dumped_is_discarded(
    project: ProjectCopy, postgres: Cluster, tamper: Callable[[Path], None]
) -> None:
    make(project, postgres, check=True)
    (dump,) = dumps(project)
    kept = entries_of(dump)
    drop_templates(postgres)
    tamper(dump)

    result = make(project, postgres, check=True)

    assert shadow_build(result).restored is None and shadow_build(result).applied == 2
    assert dumps(project) == [dump]
    again = entries_of(dump)  # made again by this cold build (each dump has a key of its own)
    assert (again["major"], again["fingerprint"]) == (kept["major"], kept["fingerprint"])


def test_a_warm_run_starts_from_a_template_and_gives_what_a_cold_one_gives(
    project: ProjectCopy, postgres: Cluster
) -> None:
    before = postgres.templates()
    project.add_email_column()
    cold = make(project, postgres, dry_run=True)
    (template,) = postgres.templates() - before
    warm = make(project, postgres, dry_run=True)

    assert shadow_build(cold).restored is None and shadow_build(warm).restored == HEAD
    assert (warm.operations, warm.differences, warm.warnings) == (
        cold.operations,
        cold.differences,
        cold.warnings,
    )
    assert [warning.kind for warning in findings(warm.warnings)] == ["lock_timeout_missing"]  # measured
    assert VOLATILE.sub("", dry_run_script(warm)) == VOLATILE.sub("", dry_run_script(cold))
    assert postgres.templates() - before == {template, template + SPARE}  # the next warm run's copy
    # Nothing may connect to a template, so that a copy never fails for a connection left open.
    assert postgres.sql("SELECT datallowconn FROM pg_database WHERE datname = :name", name=template) == [
        (False,)
    ]

    written = make(project, postgres, "add email")
    assert shadow_build(written).restored == HEAD and written.path is not None
    after = make(project, postgres, check=True)  # the new head: built from the template, then cached
    assert (
        after.operations == [] and shadow_build(after).restored == HEAD and shadow_build(after).applied == 1
    )


@contextmanager
def statements_sent() -> Iterator[list[str]]:
    """Every statement this process sends to a database while the block runs, as sent."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(str(args[2]))  # conn, cursor, statement, parameters, context, executemany

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def copies(sent: list[str]) -> dict[str, str | None]:
    """The databases the statements created: each one's name, and the database it copies (None: empty)."""
    made = (COPY.fullmatch(statement) for statement in sent)
    return {found["name"]: found["template"] for found in made if found}


COPY = re.compile(r'CREATE DATABASE "(?P<name>[^"]+)"(?: TEMPLATE "(?P<template>[^"]+)")?')


def test_warm_runs_make_no_database_for_nothing_and_take_the_spare_copy_the_previous_one_made(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """The shadow database is made when first needed: a warm run makes it as the template's copy (it
    made an empty one before the app loaded and dropped it for the copy), and meanwhile a spare copy,
    which the next warm run takes in place of a copy of its own."""
    project.add_email_column()
    cold = make(project, postgres, dry_run=True)  # the templates, and the models' schema, cached
    with statements_sent() as first:
        copied = make(project, postgres, dry_run=True)
    with statements_sent() as second:
        taken = make(project, postgres, dry_run=True)

    (template,) = {name for name in copies(first).values() if name}
    spare = template + SPARE
    (shadow,) = set(copies(first)) - {spare}
    assert copies(first) == {shadow: template, spare: template}
    assert copies(second) == {spare: template}  # the next one's
    (renamed,) = [statement for statement in second if "RENAME" in statement]
    assert renamed.startswith(f'ALTER DATABASE "{spare}" RENAME TO "fmm_shadow_')
    assert postgres.sql("SELECT datallowconn FROM pg_database WHERE datname = :name", name=spare) == [
        (False,)
    ]
    for warm in (copied, taken):
        assert shadow_build(warm).restored == HEAD
        assert (warm.operations, warm.differences, warm.warnings) == (
            cold.operations,
            cold.differences,
            cold.warnings,
        )
        assert VOLATILE.sub("", dry_run_script(warm)) == VOLATILE.sub("", dry_run_script(cold))


@pytest.mark.version_independent
def test_a_spare_copy_that_may_have_been_connected_to_is_never_taken(
    project: ProjectCopy, postgres: Cluster
) -> None:
    make(project, postgres, check=True)
    with statements_sent() as warm:
        make(project, postgres, check=True)  # it leaves a spare copy of the template
    (spare,) = [name for name in copies(warm) if name.endswith(SPARE)]
    postgres.sql(f'ALTER DATABASE "{spare}" ALLOW_CONNECTIONS true', database="postgres")
    postgres.sql("CREATE TABLE intruder (id integer)", database=spare)

    with statements_sent() as sent:
        result = make(project, postgres, check=True)

    assert result.operations == [] and shadow_build(result).restored == HEAD
    assert not [statement for statement in sent if "RENAME" in statement]
    assert copies(sent)[spare] is not None  # made again, from the template, and sealed
    assert postgres.sql("SELECT datallowconn FROM pg_database WHERE datname = :name", name=spare) == [
        (False,)
    ]
    postgres.sql(f'ALTER DATABASE "{spare}" ALLOW_CONNECTIONS true', database="postgres")
    assert postgres.sql("SELECT to_regclass('intruder') IS NULL", database=spare) == [(True,)]


@pytest.mark.version_independent
def test_a_template_at_another_revision_is_discarded(project: ProjectCopy, postgres: Cluster) -> None:
    before = postgres.templates()
    make(project, postgres, check=True)
    (template,) = postgres.templates() - before
    postgres.sql(f'ALTER DATABASE "{template}" ALLOW_CONNECTIONS true', database="postgres")
    postgres.sql("UPDATE alembic_version SET version_num = '0001_users'", database=template)
    postgres.sql(f'ALTER DATABASE "{template}" ALLOW_CONNECTIONS false', database="postgres")
    for dump in dumps(project):  # the templates alone
        dump.unlink()

    project.add_email_column()
    result = make(project, postgres, check=True)
    assert shadow_build(result).restored is None and shadow_build(result).applied == 2
    assert result.operations == ["+ column user.email"]
    assert postgres.templates() - before == {template}  # made again, from this cold build


@pytest.mark.version_independent
def test_each_project_keeps_its_newest_templates(project: ProjectCopy, postgres: Cluster) -> None:
    """A history that changes keeps the three most recent heads' templates, no more."""
    before = postgres.templates()
    for number in range(5):
        project.add_revision(f"0003_step{number}", HEAD, upgrade=f"    op.execute('SELECT {number}')")
        make(project, postgres, check=True)
        (project.versions / f"0003_step{number}.py").unlink()
    assert len(postgres.templates() - before) == 3


@pytest.mark.version_independent
def test_cache_lists_and_clears_the_servers_templates_and_prune_leaves_them(
    project: ProjectCopy, postgres: Cluster
) -> None:
    url, server = postgres.url_string(), postgres.url().render_as_string(hide_password=True)
    folder = project.home / ".cache" / "flask-makemigrations"
    before = postgres.templates()  # other tests'
    make(project, postgres, check=True, use_cache=False)
    assert (postgres.templates(), dumps(project)) == (before, [])
    make(project, postgres, check=True)
    make(project, postgres, check=True)  # warm: it leaves a spare copy of the template
    templates = {name for name in postgres.templates() if not name.endswith(SPARE)}
    assert postgres.templates() - templates and len(dumps(project)) == 1

    shown = project.cache_shown(database=url)
    assert shown.returncode == 0, shown.stderr
    assert f"Template databases on {server}: {len(templates)}" in shown.stdout
    assert all(f"  {name}" in shown.stdout.splitlines() for name in templates)
    assert SPARE not in shown.stdout
    assert "(0 snapshot(s), 1 portable PostgreSQL snapshot(s))\n" in shown.stdout

    assert project.prune_shown(url).returncode == 0
    cleared = project.cache_shown(clear=True, database=url)
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout == (
        f"Removed {len(templates)} snapshot(s) from {server}\nRemoved 1 snapshot(s) from {folder}\n"
    )
    assert (postgres.templates(), dumps(project)) == (set(), [])

    make(project, postgres, check=True)
    templates = postgres.templates()
    cleared = project.cache_shown(clear=True)  # the files only
    assert cleared.returncode == 0 and cleared.stdout == f"Removed 1 snapshot(s) from {folder}\n"
    assert (postgres.templates(), dumps(project)) == (templates, [])


@pytest.mark.version_independent
def test_cache_database_needs_a_postgresql_url(project: ProjectCopy) -> None:
    assert project.refused_shown(project.cache_shown, database="mysql://u@localhost/x") == (
        "Error: cache --database: only a PostgreSQL server keeps snapshots (postgresql://...)"
    )


@pytest.mark.version_independent
def test_two_runs_at_once_both_succeed_and_leave_one_template(
    project: ProjectCopy, postgres: Cluster
) -> None:
    before, databases = postgres.templates(), postgres.databases()
    project.add_email_column()
    url = postgres.url_string()
    runs = [project.start("makemigrations", "--check", "--database", url) for _ in range(2)]
    for run in map(finish, runs):
        assert (run.returncode, run.stdout) == (
            1,
            "+ column user.email: ACCESS EXCLUSIVE lock on user (blocks reads and writes) "
            "until the revision commits\n",
        ), run.stderr
    # One template; a run that started once the other had saved it is warm, and leaves its spare copy.
    assert len({name for name in postgres.templates() - before if not name.endswith(SPARE)}) == 1
    assert postgres.databases() == databases


@pytest.mark.version_independent
def test_another_roles_templates_are_neither_used_nor_dropped(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """Two projects on one server may share a migrations path (containers): only the URL's role's
    own templates are the cache's."""
    before = postgres.templates()
    make(project, postgres, check=True)
    (ours,) = postgres.templates() - before
    postgres.sql(f'ALTER DATABASE "{ours}" OWNER TO {LIMITED_ROLE}', database="postgres")
    for dump in dumps(project):  # the templates alone
        dump.unlink()
    try:
        result = make(project, postgres, check=True)
        # not ours: built cold; saving under its name fails quietly
        assert shadow_build(result).restored is None
        assert postgres.templates() - before == {ours}
        cleared = project.cache_shown(clear=True, database=postgres.url_string())
        assert cleared.returncode == 0 and ours in postgres.templates()
    finally:
        postgres.sql(f'DROP DATABASE IF EXISTS "{ours}"', database="postgres")
