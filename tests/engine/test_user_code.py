"""Apps as they really are: code that exits, writes to stdout past Python, opens SQLite files itself,
creates tables of its own while loading, or warns. On copies of the example, through the engine in
this process (rendered by the invoke front end's own functions where the lines are the behaviour);
real ``invoke`` runs where only a process shows it (its exit status and streams).
"""

import ast
import sys
from pathlib import Path

import alembic
import pytest
from conftest import HEAD, REPO, USERNAME, ProjectCopy
from test_safety import assert_untouched, real_database

FACTORY_END = "    return app"


def run_in_factory(project: ProjectCopy, code: str) -> None:
    """Make the app factory run ``code`` (one line) inside an app context, just before it returns."""
    context = f"    with app.app_context():\n        {code}\n\n"
    project.edit("app/__init__.py", FACTORY_END, context + FACTORY_END)


# --- sys.exit() is an error, whatever status it asks for ------------------------------------------


def exit_while_loading(project: ProjectCopy, call: str) -> None:
    models = "from .extensions import db"
    project.edit("app/models.py", models, f"import sys\n\n{models}\n{call}")


@pytest.mark.parametrize("call", ["sys.exit(0)", "sys.exit(3)", "sys.exit('bye')", "sys.exit()"])
def test_an_app_that_exits_while_loading_is_an_error(project: ProjectCopy, call: str) -> None:
    exit_while_loading(project, call)

    for run in (lambda: project.make_migrations(check=True), project.verify_history):
        assert project.engine_refuses(run) == f"the app called {call} while loading"


def test_a_process_whose_app_exits_0_while_loading_exits_2(project: ProjectCopy) -> None:
    """The status an exit asks for is not the process's: ``sys.exit(0)`` must not read as success."""
    exit_while_loading(project, "sys.exit(0)")
    assert project.refuses("makemigrations", "--check") == "Error: the app called sys.exit(0) while loading"


@pytest.mark.parametrize("call", ["sys.exit(0)", "sys.exit('bye')"])
def test_a_migration_that_exits_is_an_error_naming_it(project: ProjectCopy, call: str) -> None:
    project.add_revision("0003_exits", HEAD, upgrade=f"    {call}", imports="import sys")

    for run in (lambda: project.make_migrations(check=True), project.verify_history):
        error = project.engine_refuses(run)
        assert "revision 0003_exits (migrations/versions/0003_exits.py)" in error, error
        assert error.endswith(f"failed to apply: it called {call}")


def test_an_env_py_that_exits_is_an_error_naming_it(project: ProjectCopy) -> None:
    online = "def run_migrations_online():"
    project.edit("migrations/env.py", online, f"{online}\n    sys.exit(0)")
    project.edit("migrations/env.py", "import logging", "import logging\nimport sys")

    error = project.engine_refuses(project.make_migrations, check=True)

    assert error.startswith("migrations/env.py ") and error.endswith("it called sys.exit(0)")


# --- our own bugs: one line, exit 2, the traceback on --verbose -----------------------------------


def test_an_unexpected_exception_is_one_line_and_verbose_shows_its_traceback(project: ProjectCopy) -> None:
    """env.py's include_object raising where only the tool's own comparison calls it: nothing in the
    engine expects that, so it is reported as an unexpected exception, with where it came from."""
    project.edit(
        "migrations/env.py",
        "def run_migrations_online():",
        "def include_object(object, name, type_, reflected, compare_to):\n"
        "    if type_ == 'table' and not reflected and compare_to is None:\n"
        "        raise LookupError('no such thing')\n"
        "    return True\n\n\n"
        "def run_migrations_online():",
    )
    project.edit(
        "migrations/env.py", "**conf_args\n", "include_object=include_object,\n            **conf_args\n"
    )

    quiet = project.refused_shown(project.makemigrations_shown, check=True)
    verbose = project.makemigrations_shown(check=True, verbose=True)

    assert quiet.startswith("Error: unexpected LookupError in ")
    assert quiet.endswith("(include_object): no such thing; --verbose shows the traceback")
    assert verbose.returncode == 2
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == quiet


# --- stdout is results only, at the file-descriptor level too -------------------------------------


@pytest.mark.version_independent  # file descriptors: this package's code alone
def test_dry_run_output_is_python_whatever_the_app_writes_to_stdout(project: ProjectCopy) -> None:
    """``os.write(1, ...)`` and an atexit hook bypass ``sys.stdout``; they must not reach the file."""
    project.edit(
        "app/models.py",
        "from .extensions import db",
        "import atexit\nimport os\n\nfrom .extensions import db\n\n"
        "os.write(1, b'loaded the models\\n')\n"
        "print('and said so')\n"
        "atexit.register(lambda: os.write(1, b'goodbye from atexit\\n'))",
    )
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    result = project.invoke("makemigrations", "--dry-run")

    assert result.returncode == 0, result.stderr
    ast.parse(result.stdout)
    assert "add_column" in result.stdout
    for line in ("loaded the models", "and said so", "goodbye from atexit"):
        assert line in result.stderr and line not in result.stdout


# --- sqlite3.connect is guarded like SQLAlchemy's connections -------------------------------------


def test_an_app_that_opens_its_own_sqlite_file_is_refused_and_the_file_untouched(
    project: ProjectCopy, tmp_path: Path
) -> None:
    real = tmp_path / "app-data.sqlite"
    content = real_database(real)
    project.edit(
        "app/models.py",
        "from .extensions import db",
        f"import sqlite3\n\nfrom .extensions import db\n\n"
        f"sqlite3.connect({str(real)!r}).execute('CREATE TABLE IF NOT EXISTS visits (n INTEGER)')",
    )

    error = project.engine_refuses(project.make_migrations, check=True)

    assert error.startswith(("could not load the Flask app", "refused"))
    assert f"sqlite3.connect({str(real)!r})" in error
    assert_untouched(real, content)


def test_an_app_that_swallows_the_sqlite_refusal_is_still_refused(
    project: ProjectCopy, tmp_path: Path
) -> None:
    missing = tmp_path / "never.sqlite"
    project.edit(
        "app/models.py",
        "from .extensions import db",
        "import sqlite3\n\nfrom .extensions import db\n\n"
        f"try:\n    sqlite3.connect({str(missing)!r})\nexcept Exception:\n    pass",
    )

    error = project.engine_refuses(project.make_migrations, check=True)

    assert f"sqlite3.connect({str(missing)!r})" in error
    assert list(tmp_path.glob("never.sqlite*")) == []


def test_in_memory_sqlite_databases_of_the_app_are_let_through(project: ProjectCopy) -> None:
    project.edit(
        "app/models.py",
        "from .extensions import db",
        "import sqlite3\n\nfrom .extensions import db\n\n"
        "_memory = sqlite3.connect(':memory:')\n_memory.execute('SELECT 1')\n_memory.close()",
    )

    assert project.make_migrations(check=True).operations == []


# --- warnings from user code are shown once, attributed to it --------------------------------------


def test_a_warning_from_the_models_is_shown_once(project: ProjectCopy) -> None:
    """A foreign-key cycle makes SQLAlchemy warn when it sorts the tables: autogenerate does; the
    tool's own comparison must not say it a second time, from its own file."""
    project.add_model_line(USERNAME, "favorite_id = db.Column(db.Integer, db.ForeignKey('post.id'))")

    # a process: the warning as Python shows it on stderr under the run's filters, not the test's
    result = project.invoke("makemigrations", "--check")

    assert result.returncode == 1, result.stderr
    (cycle,) = [line for line in result.stderr.splitlines() if "unresolvable cycles" in line]
    assert cycle.startswith(f"{project.migrations / 'env.py'}:"), cycle  # the user's line, not ours
    assert "flask_makemigrations" not in result.stderr


@pytest.mark.skipif(
    tuple(map(int, alembic.__version__.split(".")[:2])) < (1, 20),
    reason="Alembic warns of an unnamed constraint's drop since 1.20 (alembic#916); before, nothing a "
    "project can cause and still render a revision makes its rendering warn",
)
def test_a_library_warning_no_project_code_caused_is_shown_at_the_librarys_line(project: ProjectCopy) -> None:
    """Alembic warns about an unnamed constraint while it renders the revision, after env.py has
    returned: no frame of the project is on the stack, only the console script that started the run
    (``.venv/bin/invoke``), which is no more the project's than the library it runs."""
    project.edit(
        "app/extensions.py", '    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",\n', ""
    )
    project.add_model_line(
        'author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)',
        'editor_id = db.Column(db.Integer, db.ForeignKey("user.id"))',
    )
    console_script = Path(sys.executable).parent / "invoke"

    result = project.run([str(console_script), "-r", str(REPO), "makemigrations", "--check"])

    assert result.returncode == 1, result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if "for an unnamed constraint" in line]
    assert warning.startswith(str(Path(alembic.__file__).parent / "autogenerate")), warning
    assert str(console_script) not in result.stderr
