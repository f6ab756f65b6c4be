"""Apps with several databases: Flask-SQLAlchemy's binds, and Flask-Migrate's multi-database ``env.py``.

The project (``tests/projects/binds``) has a main database and two binds, ``audit`` and
``analytics``; its history was made with the real ``flask db init --multidb`` and ``flask db migrate``.
Every database gets a shadow database of its own; each test's fixture checks none is left behind.
"""

import importlib
import re
import shutil
import signal
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import (
    REPO,
    TESTS,
    USERNAME,
    ProjectCopy,
    dry_run_script,
    findings,
    finish,
    shadow_build,
    written_text,
)
from pg_cluster import Cluster

#: Flask-SQLAlchemy 2.x: one MetaData holds every bind's tables (marked by ``info["bind_key"]``), no
#: ``db.engines``, and ``create_all(bind=...)``; Flask-Migrate's env.py of every line was written for it.
FLASK_SQLALCHEMY_2 = version("flask-sqlalchemy").startswith("2.")
#: What a single-database env.py then finds for the main database of the binds project.
BINDS_TABLES_IN_MAIN = [
    "+ table audit_entry",
    "+ index ix_audit_entry_user_id on audit_entry",
    "+ table page_view",
    "+ table user",
]

#: The line of ``PageView`` (bind ``analytics``) that tests add columns after.
PATH = "path = db.Column(db.String(200), nullable=False)"
#: The line of ``User`` (the main database).
BINDS = {"audit": "AUDIT_DATABASE_URL", "analytics": "ANALYTICS_DATABASE_URL"}
HEAD = "0002_audit_user"


def function(script: str, name: str) -> str:
    """The body of function ``name`` in a revision script."""
    found = re.search(rf"^def {name}\(\):\n(.*?)(?=^def |\Z)", script, re.MULTILINE | re.DOTALL)
    assert found, f"no {name}() in the script"
    return found.group(1)


def add_referrer(project: ProjectCopy) -> None:
    project.edit("app/models.py", PATH, f"{PATH}\n    referrer = db.Column(db.String(200))")


def count_loads(project: ProjectCopy) -> None:
    """Make the app append a line to $LOADS each time its factory runs."""
    project.edit(
        "app/__init__.py",
        "    app = Flask(",
        '    if os.environ.get("LOADS"):\n        with open(os.environ["LOADS"], "a") as loads:\n'
        '            loads.write("loaded\\n")\n'
        "    app = Flask(",
    )


def test_synced_history_has_no_changes_and_no_developers_database_is_made(binds_project: ProjectCopy) -> None:
    result = binds_project.make_migrations(check=True)
    assert result.operations == [] and result.differences == [] and result.warnings == []
    # Flask-SQLAlchemy makes the instance folder for a relative SQLite URL (the binds' defaults, while
    # the app first loads), never a database file in it.
    assert list(binds_project.root.glob("instance/*")) == []


def test_a_bind_column_goes_into_that_binds_function_only(binds_project: ProjectCopy) -> None:
    files = binds_project.revision_files()
    add_referrer(binds_project)

    result = binds_project.make_migrations("page views keep their referrer")

    (new,) = binds_project.new_revisions(files)
    assert result.path == new
    assert result.operations == ["analytics: + column page_view.referrer"]
    assert findings(result.operations)[0].fields == {
        "bind": "analytics",
        "table": "page_view",
        "column": "referrer",
    }
    script = new.read_text()
    assert "add_column(sa.Column('referrer'" in function(script, "upgrade_analytics")
    assert "drop_column('referrer')" in function(script, "downgrade_analytics")
    for name in ("upgrade_", "downgrade_", "upgrade_audit", "downgrade_audit"):
        assert "op." not in function(script, name), name
    assert f"down_revision = {HEAD!r}" in script

    assert binds_project.make_migrations(check=True).operations == []
    assert binds_project.verify_history().revisions == 3


def test_a_table_added_to_the_main_database(binds_project: ProjectCopy) -> None:
    binds_project.edit(
        "app/models.py",
        "class AuditEntry",
        "class Tag(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n\n\nclass AuditEntry",
    )
    result = binds_project.make_migrations("tags", rev_id="0003_tags")
    assert result.operations == ["+ table tag"]
    script = written_text(result)
    assert "create_table('tag'" in function(script, "upgrade_")
    assert "op." not in function(script, "upgrade_audit") + function(script, "upgrade_analytics")


def test_check_lists_each_binds_operations_and_exits_1(binds_project: ProjectCopy) -> None:
    add_referrer(binds_project)
    binds_project.edit("app/models.py", USERNAME, f"{USERNAME}\n    email = db.Column(db.String(120))")

    run = binds_project.makemigrations_shown(check=True)

    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines() == ["+ column user.email", "analytics: + column page_view.referrer"]


def test_verification_checks_each_bind_against_its_models(binds_project: ProjectCopy) -> None:
    """A bind's revision that autogenerate gets right but a hand edit broke: the server default is
    missing from the migrated bind, and the difference names the bind."""
    binds_project.edit(
        "app/models.py", PATH, f'{PATH}\n    kind = db.Column(db.String(10), server_default="page")'
    )
    result = binds_project.make_migrations(dry_run=True)
    assert result.operations == ["analytics: + column page_view.kind"]
    assert result.differences == []

    binds_project.write(
        "migrations/versions/0003_kind.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = '0003_kind'\n"
        f"down_revision = {HEAD!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade(engine_name):\n    globals()['upgrade_%s' % engine_name]()\n\n\n"
        "def downgrade(engine_name):\n    globals()['downgrade_%s' % engine_name]()\n\n\n"
        "def upgrade_():\n    pass\n\n\ndef downgrade_():\n    pass\n\n\n"
        "def upgrade_audit():\n    pass\n\n\ndef downgrade_audit():\n    pass\n\n\n"
        "def upgrade_analytics():\n"
        "    op.add_column('page_view', sa.Column('kind', sa.String(10)))\n\n\n"
        "def downgrade_analytics():\n    with op.batch_alter_table('page_view') as batch:\n"
        "        batch.drop_column('kind')\n",
    )
    error = binds_project.engine_refuses(binds_project.verify_history)
    assert "analytics: column page_view.kind" in error and "server default" in error


def test_a_bind_with_a_hard_coded_url_is_redirected_and_its_database_never_made(
    binds_project: ProjectCopy,
) -> None:
    real = binds_project.root / "real-audit.db"
    binds_project.edit(
        "app/__init__.py", 'os.environ.get("AUDIT_DATABASE_URL", "sqlite:///audit.db")', f'"sqlite:///{real}"'
    )
    add_referrer(binds_project)
    result = binds_project.make_migrations(check=True)
    assert result.operations == ["analytics: + column page_view.referrer"]
    assert not real.exists()
    assert binds_project.leftovers() == []


def test_bind_env_names_a_variable_and_the_app_loads_once(binds_project: ProjectCopy) -> None:
    binds_project.edit("app/__init__.py", '"ANALYTICS_DATABASE_URL"', '"STATS_URL"')
    count_loads(binds_project)
    loads = binds_project.tmpdir.parent / "loads"
    add_referrer(binds_project)

    named = {"audit": "AUDIT_DATABASE_URL", "analytics": "STATS_URL"}
    result = binds_project.make_migrations(check=True, env={"LOADS": str(loads)}, where={"bind_env": named})
    assert result.operations == ["analytics: + column page_view.referrer"]
    assert loads.read_text() == "loaded\n"  # every variable was known before the app loaded


def test_binds_not_named_get_their_databases_as_the_app_declares_them(binds_project: ProjectCopy) -> None:
    """No variable is needed: the app loads once, its binds redirected as Flask-SQLAlchemy reads them."""
    count_loads(binds_project)
    loads = binds_project.tmpdir.parent / "loads"
    add_referrer(binds_project)
    result = binds_project.make_migrations(check=True, env={"LOADS": str(loads)})
    assert result.operations == ["analytics: + column page_view.referrer"]
    assert loads.read_text() == "loaded\n"


def test_a_bind_whose_variable_is_not_set_gets_its_database_all_the_same(binds_project: ProjectCopy) -> None:
    """Its URL is None in the configuration: the redirection fills it in."""
    binds_project.edit(
        "app/__init__.py",
        'os.environ.get("ANALYTICS_DATABASE_URL", "sqlite:///analytics.db")',
        'os.environ.get("STATS_URL")',
    )
    add_referrer(binds_project)
    assert binds_project.make_migrations(check=True).operations == ["analytics: + column page_view.referrer"]


@pytest.mark.version_independent
def test_two_binds_on_one_url_are_refused(binds_project: ProjectCopy) -> None:
    error = _refused_after_edit(
        binds_project,
        "app/__init__.py",
        'os.environ.get("ANALYTICS_DATABASE_URL", "sqlite:///analytics.db")',
        'os.environ.get("AUDIT_DATABASE_URL", "sqlite:///audit.db")',
    )
    assert re.fullmatch(
        r"bind 'audit' and bind 'analytics' both use \S+: give each bind a database of its own", error
    )


def test_a_bind_the_configuration_does_not_declare_is_refused(binds_project: ProjectCopy) -> None:
    error = _refused_after_edit(
        binds_project, "app/models.py", '__bind_key__ = "analytics"', '__bind_key__ = "stats"'
    )
    assert error == (
        "the models put table(s) page_view in bind 'stats', which SQLALCHEMY_BINDS does not declare: add it "
        "there, with its URL"
    )


@pytest.mark.version_independent
def test_a_multi_database_env_without_binds_is_refused(project: ProjectCopy) -> None:
    for name in ("env.py", "script.py.mako"):
        shutil.copyfile(TESTS / "projects" / "binds" / "migrations" / name, project.migrations / name)
    error = project.engine_refuses(project.make_migrations, check=True)
    assert error.startswith(
        "migrations/env.py is a multi-database one ('flask db init --multidb'), but the app"
    )


def test_a_single_database_env_migrates_the_main_database_only(binds_project: ProjectCopy) -> None:
    """As under ``flask db migrate``: the binds' models are not compared; their shadow databases exist
    so that nothing reaches the developer's, and a note says so."""
    for name in ("env.py", "script.py.mako"):
        shutil.copyfile(REPO / "migrations" / name, binds_project.migrations / name)
    for revision in binds_project.versions.glob("*.py"):
        revision.unlink()
    add_referrer(binds_project)

    result = binds_project.make_migrations("users", rev_id="0001_users")
    # With Flask-SQLAlchemy 2.x the main database's metadata holds the binds' tables too, and
    # 'flask db migrate' puts them there.
    assert result.operations == (BINDS_TABLES_IN_MAIN if FLASK_SQLALCHEMY_2 else ["+ table user"])
    assert [str(note) for note in result.notes] == [
        "env.py migrates the main database only (a single-database env.py, as 'flask db init' writes), as "
        "under 'flask db migrate': bind(s) audit, analytics are not migrated"
    ]
    assert binds_project.verify_history().revisions == 1


@pytest.mark.version_independent
def test_database_path_puts_each_binds_file_beside_it(binds_project: ProjectCopy) -> None:
    shadow = binds_project.tmpdir.parent / "shadow.sqlite"
    taken = binds_project.tmpdir.parent / "shadow.analytics.sqlite"
    taken.write_bytes(b"someone's")
    error = binds_project.engine_refuses(
        binds_project.make_migrations, check=True, where={"database": str(shadow)}
    )
    assert error.startswith(f"--database {taken} already exists")
    assert taken.read_bytes() == b"someone's" and not shadow.exists()

    taken.unlink()
    add_referrer(binds_project)
    result = binds_project.make_migrations(check=True, where={"database": str(shadow)})
    assert result.operations == ["analytics: + column page_view.referrer"]
    assert list(shadow.parent.glob("shadow*")) == []


def test_the_cache_keeps_one_snapshot_set_per_head(binds_project: ProjectCopy) -> None:
    add_referrer(binds_project)
    cold = binds_project.make_migrations(dry_run=True)
    warm = binds_project.make_migrations(dry_run=True)
    assert shadow_build(cold).restored is None and shadow_build(warm).restored == HEAD
    assert (warm.operations, warm.differences) == (cold.operations, cold.differences)
    strip = re.compile(r"Create Date: .*|revision = .*|Revision ID: .*")
    assert strip.sub("", dry_run_script(warm)) == strip.sub("", dry_run_script(cold))


def test_merge_writes_every_binds_functions(binds_project: ProjectCopy) -> None:
    binds_project.write(
        "migrations/versions/0003_side.py",
        (binds_project.versions / "0002_audit_user_audit_entries_name_their_user.py")
        .read_text()
        .replace("revision = '0002_audit_user'", "revision = '0003_side'")
        .replace("down_revision = '0001_initial'", "down_revision = '0001_initial'")
        .replace("batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=False))", "pass")
        .replace("batch_op.create_index(batch_op.f('ix_audit_entry_user_id'), ['user_id'], unique=False)", "")
        .replace("batch_op.drop_index(batch_op.f('ix_audit_entry_user_id'))", "pass")
        .replace("batch_op.drop_column('user_id')", ""),
    )
    from flask_makemigrations import Project, merge_heads

    with binds_project.inside():
        merged = merge_heads(Project(), rev_id="0004_merge")
    script = written_text(merged)
    for name in ("upgrade_", "upgrade_audit", "upgrade_analytics"):
        assert function(script, name).strip() == "pass"
    assert sorted(binds_project.heads()) == ["0004_merge"]


# -- on a PostgreSQL server ------------------------------------------------------------------------


def test_postgresql_a_shadow_database_per_bind(binds_project: ProjectCopy, postgres: Cluster) -> None:
    before, templates = postgres.databases(), postgres.templates()
    url = postgres.url_string()
    assert binds_project.make_migrations(check=True, where={"database": url}).operations == []
    assert len(postgres.templates() - templates) == 3  # the cache: a template of each database at head

    add_referrer(binds_project)
    result = binds_project.make_migrations("referrer", where={"database": url})
    assert shadow_build(result).restored == HEAD  # every database copied from its template
    assert result.operations == ["analytics: + column page_view.referrer"]
    assert "add_column(sa.Column('referrer'" in function(written_text(result), "upgrade_analytics")
    assert binds_project.verify_history(where={"database": url}).revisions == 3
    assert postgres.databases() == before


@pytest.mark.version_independent
def test_postgresql_ctrl_c_drops_the_shadow_database_of_every_bind(
    binds_project: ProjectCopy, postgres: Cluster
) -> None:
    before = postgres.databases()
    started = binds_project.tmpdir.parent / "started"
    binds_project.write(
        "migrations/versions/0003_slow.py",
        "import time\nfrom pathlib import Path\n\nfrom alembic import op\n\nrevision = '0003_slow'\n"
        f"down_revision = {HEAD!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade(engine_name):\n    if engine_name == 'analytics':\n"
        f"        Path({str(started)!r}).touch()\n        time.sleep(300)\n\n\n"
        "def downgrade(engine_name):\n    pass\n",
    )
    process = binds_project.start("makemigrations", "--check", "--database", postgres.url_string())
    deadline = time.monotonic() + 60
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), process.communicate()
    # A shadow database each, and the models' databases of those env.py configured so far (built ahead).
    assert len(postgres.databases() - before) >= 3

    process.send_signal(signal.SIGINT)
    run = finish(process)
    assert run.returncode == 130, run.stderr
    assert postgres.databases() == before


# -- the front ends ------------------------------------------------------------------------------


@pytest.mark.version_independent
def test_every_front_end_takes_bind_env(binds_project: ProjectCopy) -> None:
    binds_project.edit("app/__init__.py", '"ANALYTICS_DATABASE_URL"', '"STATS_URL"')
    add_referrer(binds_project)
    invoke = binds_project.invoke(
        "makemigrations", "--check", "--bind-env", "analytics=STATS_URL", "--format", "json"
    )
    assert invoke.returncode == 1, invoke.stderr
    assert '"bind": "analytics"' in invoke.stdout

    flask = binds_project.run(["flask", "makemigrations", "--check", "--bind-env", "analytics=STATS_URL"])
    assert (flask.returncode, flask.stdout) == (1, "analytics: + column page_view.referrer\n"), flask.stderr

    binds_project.write("invoke.yaml", "makemigrations:\n  bind_env:\n    analytics: STATS_URL\n")
    configured = binds_project.invoke(
        "-f", str(binds_project.root / "invoke.yaml"), "makemigrations", "--check"
    )
    assert (configured.returncode, configured.stdout) == (1, "analytics: + column page_view.referrer\n")


@pytest.mark.version_independent
@pytest.mark.parametrize(
    ("given", "error"),
    [
        (["audit"], "Error: --bind-env audit: give NAME=VARIABLE, e.g. audit=AUDIT_DATABASE_URL"),
        (["audit=not a name"],
         "Error: --bind-env audit=not a name: give NAME=VARIABLE, e.g. audit=AUDIT_DATABASE_URL"),
        (["audit=A", "audit=B"], "Error: --bind-env: bind 'audit' is named twice"),
        (["audit=A", "analytics=A"],
         "Error: bind 'analytics' and bind 'audit' would both read $A: name another variable with "
         "--bind-env analytics=VAR"),
        (["audit=DATABASE_URL"],
         "Error: bind 'audit' and the main database would both read $DATABASE_URL: name another variable "
         "with --bind-env audit=VAR"),
        (["stats=STATS_URL"],
         "Error: --bind-env stats: the app declares no such bind (its binds: audit, analytics)"),
    ],
)  # fmt: skip
def test_bind_env_that_cannot_work_is_refused(
    binds_project: ProjectCopy, given: list[str], error: str
) -> None:
    arguments = [argument for item in given for argument in ("--bind-env", item)]
    assert binds_project.refuses("makemigrations", "--check", *arguments) == error


def test_an_app_that_connects_to_a_bind_while_loading_is_loaded_again_on_its_shadow(
    binds_project: ProjectCopy,
) -> None:
    binds_project.edit(
        "app/__init__.py",
        "    return app",
        "    with app.app_context():\n"
        + ('        db.get_engine(bind="audit")' if FLASK_SQLALCHEMY_2 else '        db.engines["audit"]')
        + ".connect().close()\n    return app",
    )
    assert binds_project.make_migrations(check=True).operations == []


@pytest.mark.version_independent
def test_an_app_that_needs_a_variable_that_is_not_set_is_told_to_name_it(binds_project: ProjectCopy) -> None:
    error = _refused_after_edit(
        binds_project,
        "app/__init__.py",
        'os.environ.get("ANALYTICS_DATABASE_URL", "sqlite:///analytics.db")',
        'os.environ["STATS_URL"]',
    )
    assert error.endswith(
        "KeyError: 'STATS_URL'; if a bind reads $STATS_URL, name it: --bind-env NAME=STATS_URL"
    )


def test_a_bind_built_by_the_app_while_loading_is_built_from_the_history(binds_project: ProjectCopy) -> None:
    binds_project.edit(
        "app/__init__.py",
        "    return app",
        "    with app.app_context():\n        db.create_all("
        + ('bind="audit"' if FLASK_SQLALCHEMY_2 else 'bind_key="audit"')
        + ")\n    return app",
    )
    add_referrer(binds_project)
    assert binds_project.make_migrations(check=True).operations == ["analytics: + column page_view.referrer"]


def test_an_app_whose_modules_were_imported_before_the_run_loads_once(binds_project: ProjectCopy) -> None:
    """A task file may import the project first: its binds need no second load any more."""
    from flask_makemigrations import Mode, Project, Request, make_migrations

    with binds_project.inside():
        sys.path.insert(0, str(binds_project.root))
        importlib.import_module("app.extensions")  # as a project's own task file may

        assert make_migrations(Project(), Request(mode=Mode.CHECK)).operations == []


# -- Flask-Migrate's multi-database env.py of each release line --------------------------------------


MULTIDB = sorted((TESTS / "env_templates").glob("flask-migrate-*-multidb.py"))


@pytest.mark.parametrize("template", MULTIDB, ids=lambda path: path.stem)
def test_each_release_lines_multidb_env(binds_project: ProjectCopy, template: Path) -> None:
    """Only 4.0's works with Flask-SQLAlchemy 3 (per-bind metadata, ``db.engines``): the older ones
    fail, or see no bind's models, exactly as they do under ``flask db migrate``. Every one works with
    Flask-SQLAlchemy 2.x, which they were written for."""
    shutil.copyfile(template, binds_project.migrations / "env.py")
    shutil.copyfile(template.with_suffix(".mako"), binds_project.migrations / "script.py.mako")
    release = template.stem.split("-")[2]
    # db.get_engine(app, bind) is Flask-SQLAlchemy 2's signature; 3.0 takes no bind=, 3.1 does again.
    fails = release in ("2.5.3", "3.0.0") or (
        release == "3.1.0" and tuple(map(int, version("flask-sqlalchemy").split(".")[:2])) < (3, 1)
    )
    if release.startswith("4.") or FLASK_SQLALCHEMY_2:
        assert binds_project.make_migrations(check=True).operations == []
    elif fails:
        error = binds_project.engine_refuses(binds_project.make_migrations, check=True)
        assert error.startswith("migrations/env.py failed to apply: TypeError: ") and "get_engine()" in error
    else:  # tables filtered by info["bind_key"] from db.metadata, which holds the main database's only
        operations = binds_project.make_migrations(check=True).operations
        assert "audit: - table audit_entry" in operations and "analytics: - table page_view" in operations


@pytest.mark.version_independent
def test_two_binds_whose_files_would_share_a_name_are_refused(tmp_path: Path) -> None:
    from flask_makemigrations import MakemigrationsError
    from flask_makemigrations.shadow.backends import parse_database
    from flask_makemigrations.shadow.backends.sqlite import SQLiteFile

    backend = parse_database(str(tmp_path / "shadow.sqlite"))
    files = list(backend.for_binds(["audit", "a b"]).values())
    paths = [file.path for file in files if isinstance(file, SQLiteFile) and file.path is not None]
    assert len(paths) == len(files) and [path.name for path in paths] == [
        "shadow.audit.sqlite",
        "shadow.a_b.sqlite",
    ]
    with pytest.raises(MakemigrationsError) as refused:
        backend.for_binds(["a/b", "A_b"])
    assert str(refused.value) == (
        f"--database {tmp_path / 'shadow.sqlite'}: bind 'A_b' and bind 'a/b' would share shadow.A_b.sqlite"
    )


def _refused_after_edit(binds_project: ProjectCopy, path: str, old: str, new: str) -> str:
    """The engine's one-line refusal of ``makemigrations --check`` once ``old`` in the project's file
    ``path`` reads ``new``."""
    binds_project.edit(path, old, new)
    return binds_project.engine_refuses(binds_project.make_migrations, check=True)
