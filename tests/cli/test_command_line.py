"""The other doors into the engine: ``python -m flask_makemigrations``, its console script and
``flask makemigrations``. A thin layer of real processes: the same few behaviours for each (no
changes, a change written, ``--check`` 0/1, an error as one line and status 2, Ctrl-C 130), the
names of the next steps in each one's syntax, and the app-import trap of the ``flask`` command.
"""

import dataclasses
import importlib.util
import json
import re
import sqlite3
import sys
from pathlib import Path

import click
import pytest
from conftest import HEAD, REPO, ProjectCopy, Run, interrupt, probe_env, wait_for_report

from flask_makemigrations.errors import NextStep
from flask_makemigrations.frontends import command_line, invoke_tasks, runs, surface

#: Real processes through this package's front end; Flask and Click are the same in every session of
#: the matrix, and what the engine does under them is tested in process in every session.
pytestmark = pytest.mark.version_independent

BIN = Path(sys.executable).parent
FRONT_ENDS = {
    "python -m": [sys.executable, "-m", "flask_makemigrations"],
    "console script": [str(BIN / "flask-makemigrations")],
    "flask": [str(BIN / "flask"), "makemigrations"],
}
NEXT_STEP = {
    "python -m": "'python -m flask_makemigrations merge'",
    "console script": "'python -m flask_makemigrations merge'",
    "flask": "'flask makemigrations merge'",
}


@pytest.fixture(params=["python -m", "flask"], ids=str)
def front(request: pytest.FixtureRequest) -> str:
    """The two command lines; the console script is ``python -m``'s program (tested once below)."""
    front: str = request.param
    return front


def run(project: ProjectCopy, front: str, *args: str, env: dict[str, str] | None = None) -> Run:
    return project.run([*FRONT_ENDS[front], *args], env=env)


def test_no_changes_then_a_change_written_then_check(project: ProjectCopy, front: str) -> None:
    nothing = run(project, front, "-m", "nothing")
    assert (nothing.returncode, nothing.stdout) == (0, "No changes detected\n"), nothing.stderr

    project.add_email_column()
    pending = run(project, front, "--check")
    assert (pending.returncode, pending.stdout) == (1, "+ column user.email\n"), pending.stderr

    before = project.revision_files()
    written = run(project, front, "-m", "add email")
    assert written.returncode == 0, written.stderr
    (new,) = project.new_revisions(before)
    assert written.stdout.splitlines() == [f"migrations/versions/{new.name}", "  + column user.email"]
    assert f"down_revision = {HEAD!r}" in new.read_text()

    matched = run(project, front, "--check")
    assert (matched.returncode, matched.stdout) == (0, "No changes detected\n"), matched.stderr
    verified = run(project, front, "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("Verified 3 revision(s)"), verified.stderr


def test_the_console_script_is_the_same_program(project: ProjectCopy) -> None:
    project.add_email_column()
    pending = run(project, "console script", "--check")
    assert (pending.returncode, pending.stdout) == (1, "+ column user.email\n"), pending.stderr
    assert "'python -m flask_makemigrations -m ...'" in pending.stderr


def test_an_error_is_one_line_and_status_2_and_names_the_next_step_in_its_syntax(
    project: ProjectCopy, front: str
) -> None:
    assert project.refuses_command([*FRONT_ENDS[front], "--check", "--dry-run"]) == (
        "Error: --check and --dry-run cannot be combined"
    )
    project.add_revision("0003_left", HEAD)
    project.add_revision("0003_right", HEAD)
    error = project.refuses_command([*FRONT_ENDS[front], "-m", "x"])
    assert error.endswith(f"merge them first with {NEXT_STEP[front]} (or 'flask db merge heads')")


def test_ctrl_c_exits_130_and_leaves_nothing(project: ProjectCopy, front: str, probe_dir: Path) -> None:
    project.add_probe()
    project.add_email_column()
    before = project.snapshot()
    started = project.start("-m", "x", command=FRONT_ENDS[front], env=probe_env(probe_dir, "run", hold=True))
    wait_for_report(probe_dir, "run", started)

    result = interrupt(started)

    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Interrupted")
    assert (result.stdout, project.leftovers()) == ("", [])
    assert project.snapshot() == before


@pytest.mark.parametrize("declared", surface.TASKS, ids=lambda task: task.name)
def test_each_declared_option_reaches_every_front_end(declared: surface.Task) -> None:
    """The front ends are built from ``surface.py``'s table: each task has exactly its declared options,
    with their flags, help, kind and default, in Invoke and in both Click groups (``--app`` is Flask's
    own under ``flask``)."""
    arguments = {argument.name: argument for argument in invoke_tasks.ns.tasks[declared.name].get_arguments()}
    assert list(arguments) == [option.name for option in declared.options]
    for option in declared.options:
        argument = arguments[option.name]
        assert argument.names == (option.flag[2:], *([option.short] if option.short else []))
        assert option.help in argument.help and argument.kind is INVOKE_KIND[option.kind]
        assert all(shown in argument.help for shown in (option.metavar, option.default) if shown)
        # Not given: the declared value, or None where Invoke configuration comes before it.
        assert argument.default == (None if option in invoke_tasks.CONFIGURED else option.unset)
        assert argument.positional is option.positional  # invoke locks REV, or --revisions REV

    for group, own_app_option in ((command_line.main, True), (command_line.flask_command, False)):
        command = group if declared is surface.MAKEMIGRATIONS else group.commands[declared.name]
        assert command.help is not None and command.help.startswith(declared.doc)
        options = {parameter.name: parameter for parameter in command.params}
        wanted = [option for option in declared.options if own_app_option or not option.flask_has_it]
        assert list(options) == [option.name for option in wanted]
        for option in wanted:
            parameter = options[option.name]
            if option.positional:  # Click's argument: the value alone, optional
                assert isinstance(parameter, click.Argument) and not parameter.required
                assert parameter.metavar == option.metavar
                continue
            assert isinstance(parameter, click.Option)
            assert parameter.opts == [*([f"-{option.short}"] if option.short else []), option.flag]
            assert (parameter.help, parameter.is_flag) == (option.help, option.kind is surface.Kind.FLAG)
            assert parameter.multiple is (option.kind is surface.Kind.REPEATED)
            assert parameter.metavar == option.metavar
            assert bool(parameter.show_default) is (option.default is not None)
        unset = command.make_context(declared.name, []).params  # what a task gets from no options
        assert unset == {option.name: option.unset for option in wanted}

    given = {field.name: field.default for field in dataclasses.fields(runs.Given)}
    for option in declared.options:  # each carries its value to the engine, unset by default
        assert given[option.name] == option.unset


INVOKE_KIND = {surface.Kind.TEXT: str, surface.Kind.FLAG: bool, surface.Kind.REPEATED: list}


def test_every_value_a_run_takes_is_a_declared_option() -> None:
    """``runs.Given`` holds the options of the table and nothing else (but the bind variables Invoke
    configuration gives), so no front end can pass a value the table does not declare."""
    declared = {option.name for task in surface.TASKS for option in task.options}
    fields = {field.name for field in dataclasses.fields(runs.Given)}
    assert fields - {"configured_bind_env"} == declared


@pytest.mark.parametrize(
    ("spelling", "run_again", "tasks", "main"),
    [
        (invoke_tasks.SPELLING, invoke_tasks.RUN_AGAIN, "invoke", "invoke makemigrations"),
        (command_line.SPELLING, command_line.RUN_AGAIN, *["python -m flask_makemigrations"] * 2),
        (command_line.FLASK_SPELLING, command_line.FLASK_RUN_AGAIN, *["flask makemigrations"] * 2),
    ],
    ids=["invoke", "python -m", "flask"],
)
def test_each_front_end_names_the_tasks_in_its_syntax(
    spelling: dict[NextStep, str], run_again: str, tasks: str, main: str
) -> None:
    """The next steps and the run that writes pending changes, spelled with the declared names."""
    assert spelling == {
        NextStep.MERGE: f"'{tasks} merge'",
        NextStep.PRUNE: f"'{tasks} prune --database <the same URL>'",
    }
    assert run_again == f"'{main} -m ...'"


def test_the_help_of_every_front_end_lists_the_declared_options(project: ProjectCopy) -> None:
    """What each process shows: the long flags of the table, the same in Invoke and in both Click
    groups (with ``--help``, and ``--app`` only where it is not Flask's own), and the subcommands."""
    declared = {option.flag for option in surface.MAKEMIGRATIONS.options}
    invoke_flags = long_flags(project.invoke("--help", "makemigrations").stdout)
    assert invoke_flags == declared
    for front, app in (("python -m", set()), ("flask", {"--app"})):
        shown = run(project, front, "--help")
        assert shown.returncode == 0, shown.stderr
        assert long_flags(shown.stdout) == (declared - app) | {"--help"}, shown.stdout
        for name in ("merge", "verify", "prune", "cache"):
            assert f"\n  {name} " in shown.stdout


#: A front end's module run as ``python -m`` would, in a process whose first exit handler (the last to
#: run) says how many objects were frozen out of the last garbage collection by then.
FROZEN_AT_EXIT = (
    "import atexit, gc, runpy, sys\n"
    "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
)


@pytest.mark.parametrize(
    "module",
    [
        ["flask_makemigrations", "--check"],
        ["flask", "makemigrations", "--check"],
        ["invoke", "-r", str(REPO), "makemigrations", "--check"],
    ],
    ids=["python -m", "flask", "invoke"],
)
def test_a_front_ends_process_leaves_its_objects_out_of_the_last_collection(
    project: ProjectCopy, module: list[str]
) -> None:
    """Python's last collection at exit would walk every object the run left, for nothing."""
    done = project.run([sys.executable, "-c", FROZEN_AT_EXIT, *module])

    assert done.returncode == 0, done.stderr
    (frozen,) = re.findall(r"^frozen (\d+)$", done.stderr, re.MULTILINE)
    assert int(frozen) > 10_000


def long_flags(help_text: str) -> set[str]:
    """The long flags of a help text's option lines (the part before the help)."""
    lines = [line.strip() for line in help_text.splitlines() if line.strip().startswith("-")]
    return {flag for line in lines for flag in re.findall(r"--[a-z][a-z-]*", line.split("  ")[0])}


# --- the flask command's trap: the app imported before the guard ------------------------------------

RECORDING_APP = """

import os as _os
import sqlite3 as _sqlite3

# What the app sees at import, and a connection to it, as an app that warms a pool at import would.
_URL = _os.environ.get("DATABASE_URL", "sqlite:///{default}")
with open(_os.environ["RECORD_URLS"], "a") as _record:
    _record.write(_URL + "\\n")
_sqlite3.connect(_URL.removeprefix("sqlite:///")).close()
"""


def record_urls(project: ProjectCopy, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """Make the app record the URL it sees at import and connect to it; its default database is a
    real file with data in it."""
    default = tmp_path / "developer.sqlite"
    with sqlite3.connect(default) as connection:
        connection.execute("CREATE TABLE note (text VARCHAR(20))")
        connection.execute("INSERT INTO note VALUES ('precious')")
    connection.close()
    init = project.root / "app" / "__init__.py"
    init.write_text(init.read_text() + RECORDING_APP.format(default=default))
    project.edit("app/__init__.py", 'os.environ.get("DATABASE_URL", "sqlite:///app.db")', "_URL")
    return tmp_path / "urls.txt", default, default.read_bytes()


def test_flask_makemigrations_imports_the_app_once_after_the_guard(
    project: ProjectCopy, tmp_path: Path
) -> None:
    """Also with ``.flaskenv`` naming the app and ``.env`` the developer's database, as Flask reads them."""
    assert importlib.util.find_spec("dotenv"), "python-dotenv (the test extra) makes flask read .env"
    record, default, content = record_urls(project, tmp_path)
    (project.root / ".flaskenv").write_text("FLASK_APP=app\n")
    (project.root / ".env").write_text(f"DATABASE_URL=sqlite:///{default}\n")

    result = project.run([*FRONT_ENDS["flask"], "--check"], env={"RECORD_URLS": str(record)})

    assert (result.returncode, result.stdout) == (0, "No changes detected\n"), result.stderr
    (seen,) = record.read_text().splitlines()
    assert seen.startswith(f"sqlite:///{project.tmpdir}/flask-makemigrations-")
    assert default.read_bytes() == content


MANAGE_PY = """
import click
from flask.cli import FlaskGroup, ScriptInfo


@click.group(cls=FlaskGroup)
@click.pass_context
def cli(ctx):
    ctx.ensure_object(ScriptInfo).load_app()  # a management script that loads the app up front


cli()
"""


def test_an_app_flask_loaded_before_the_command_is_not_reused(project: ProjectCopy, tmp_path: Path) -> None:
    """The command runs again in a clean process, where the app sees only the shadow URL."""
    record, default, _ = record_urls(project, tmp_path)
    project.write("manage.py", MANAGE_PY)

    result = project.run(
        [sys.executable, "manage.py", "--app", "app", "makemigrations", "--check"],
        env={"RECORD_URLS": str(record)},
    )

    assert (result.returncode, result.stdout) == (0, "No changes detected\n"), result.stderr
    loaded_by_the_script, loaded_by_the_run = record.read_text().splitlines()
    assert loaded_by_the_script == f"sqlite:///{default}"
    assert loaded_by_the_run.startswith(f"sqlite:///{project.tmpdir}/flask-makemigrations-")

    # Options with values, flags and subcommands reach the clean process; it still speaks flask's syntax.
    project.add_email_column()
    manage = [sys.executable, "manage.py", "--app", "app", "makemigrations"]
    pending = project.run([*manage, "--check", "--format", "json"], env={"RECORD_URLS": str(record)})
    assert pending.returncode == 1 and json.loads(pending.stdout)["status"] == "changes-pending"
    assert "run 'flask makemigrations -m ...'" in pending.stderr
    verified = project.run([*manage, "verify", "--url-env", "DATABASE_URL"], env={"RECORD_URLS": str(record)})
    assert verified.returncode == 2 and "the models have changes no revision covers" in verified.stderr


@pytest.mark.parametrize(
    ("command", "flask_app", "flavour"),
    [
        ([*FRONT_ENDS["python -m"], "--check", "--app", "mypkg:create_app"], None, "mypkg"),
        ([*FRONT_ENDS["flask"], "--check"], None, "wsgi"),
        ([str(BIN / "flask"), "--app", "mypkg:create_app", "makemigrations", "--check"], None, "mypkg"),
        ([*FRONT_ENDS["flask"], "--check"], "mypkg:create_app('env')", "env"),
    ],
    ids=["python-m--app", "flask-discovery", "flask--app", "flask-FLASK_APP"],
)
def test_a_foreign_project_finds_its_app_as_flask_does(
    foreign_project: ProjectCopy, command: list[str], flask_app: str | None, flavour: str
) -> None:
    """Another team's project (``tests/projects/foreign``), with its own ``app`` package and ``wsgi.py``
    (default discovery without ``flask`` is the engine's, as under Invoke: see test_foreign_project)."""
    result = foreign_project.run(command, env={"FLASK_APP": flask_app} if flask_app else None)
    assert (result.returncode, result.stdout) == (1, f"+ table {flavour}_thing\n"), result.stderr
