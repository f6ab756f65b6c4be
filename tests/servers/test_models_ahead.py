"""Verification's models' databases built while the history is applied (``checks/models_ahead.py``), on
each server: a run finds what it finds when verification builds them itself, a database built for
options other than the ones env.py gives autogenerate is thrown away, and whatever ends a run, none is
left behind (``databases_unchanged``).

Which thread sent the models' ``CREATE TABLE`` statements tells who built them: the build ahead's
(``models-ahead``), or verification's own (``models``); the shadow database's come from the upgrade,
in the main thread.
"""

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import BODY, ProjectCopy
from server_backends import ServerUnderTest, on_every_server
from server_runs import make, refused
from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def tables_created() -> Iterator[list[tuple[str, str]]]:
    """The tables created while the block ran, each with the name (less its number) of the thread
    that sent its ``CREATE TABLE``."""
    created: list[tuple[str, str]] = []

    def record(*args: Any) -> None:  # conn, cursor, statement, parameters, context, executemany
        found = re.match(r"\s*CREATE TABLE [`\"]?(\w+)", str(args[2]))
        if found:
            created.append((threading.current_thread().name.rsplit("_", 1)[0], found[1]))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield created
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@contextmanager
def tables_created_by() -> Iterator[set[str]]:
    """The names (less their number) of the threads that sent ``CREATE TABLE`` while the block ran."""
    threads: set[str] = set()
    with tables_created() as created:
        yield threads
    threads.update(thread for thread, _ in created)


def add_a_model_no_server_builds(project: ProjectCopy) -> None:
    """``Report``, whose column has a type no server has."""
    project.edit(
        "app/models.py", "from .extensions import db", "import sqlalchemy\n\nfrom .extensions import db"
    )
    project.edit(
        "app/models.py",
        "class Post(db.Model):",
        "class Nowhere(sqlalchemy.types.UserDefinedType):\n"
        "    cache_ok = True\n\n"
        "    def get_col_spec(self, **kw):\n"
        "        return 'no_such_type'\n\n\n"
        "class Report(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
        "    where = db.Column(Nowhere())\n\n\n"
        "class Post(db.Model):",
    )


@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_the_models_are_built_while_the_history_is_applied_and_give_what_verification_builds(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    project.add_email_column()
    with tables_created_by() as ahead:
        built_ahead = make(project, server, dry_run=True)
    with tables_created_by() as asked:
        built_when_asked = make(project, server, dry_run=True, use_cache=False)  # no key, no build ahead

    assert ahead == {"MainThread", "models-ahead"}
    assert asked == {"MainThread", "models"}
    assert (built_ahead.operations, built_ahead.differences, built_ahead.warnings) == (
        built_when_asked.operations,
        built_when_asked.differences,
        built_when_asked.warnings,
    )
    assert built_ahead.operations and built_ahead.differences == []


@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_models_built_ahead_for_other_options_than_autogenerate_s_are_thrown_away(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """env.py leaves out a table only when autogenerating (one this server cannot build): the build
    ahead, made with the upgrade's options, fails, and verification builds the models again with
    autogenerate's."""
    project.edit(
        "migrations/env.py",
        "    connectable = get_engine()\n",
        "    if getattr(config.cmd_opts, 'autogenerate', False):\n"
        "        conf_args = {**conf_args, 'include_object': lambda obj, name, *rest: name != 'report'}\n"
        "    connectable = get_engine()\n",
    )
    add_a_model_no_server_builds(project)
    project.add_email_column()

    with tables_created_by() as threads:
        result = make(project, server, dry_run=True)

    assert threads == {"MainThread", "models-ahead", "models"}
    assert [line.split(":")[0] for line in map(str, result.operations)] == ["+ column user.email"]
    assert result.differences == []


@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_models_that_cannot_be_built_ahead_are_the_error_verification_gives(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """A build ahead that fails is no answer: verification builds them itself, and says why it fails
    (a CHECK constraint that autogenerate does not compare, so the revision is none of the cause)."""
    project.add_model_line(BODY, '__table_args__ = (db.CheckConstraint("length(body) >", name="broken"),)')

    with tables_created_by() as threads:
        error = refused(project, server, "verification failed at building a database from the models: ")

    assert threads == {"MainThread", "models-ahead", "models"}
    assert error.endswith("; --no-verify skips it")


@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_after_an_edit_the_build_ahead_makes_only_the_tables_whose_statements_changed(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """The other tables' shapes come from the cache, by each one's key (``post``'s foreign key refers
    to ``user`` by name: it needs ``user`` made, not the same ``user``)."""
    make(project, server, dry_run=True)  # every table built, and kept by its key
    project.add_email_column()

    with tables_created() as created:
        edited = make(project, server, dry_run=True)
    every = make(project, server, dry_run=True, use_cache=False)

    assert [(thread, table) for thread, table in created if thread != "MainThread"] == [
        ("models-ahead", "user")
    ]
    assert (edited.operations, edited.differences, edited.warnings) == (
        every.operations,
        every.differences,
        every.warnings,
    )
    assert edited.differences == []
