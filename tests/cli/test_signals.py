"""Ctrl-C and SIGTERM in the middle of the upgrade: the run cleans up, then exits 130 / 143.

The probe migration reports the shadow database it runs on and holds the upgrade there, so the signal
arrives while the shadow database certainly exists.
"""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, ProjectCopy, Run, finish, interrupt, probe_env, wait_for, wait_for_report

pytestmark = pytest.mark.version_independent  # see noxfile.py


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [(signal.SIGINT, 130, "Interrupted"), (signal.SIGTERM, 143, "Terminated")],
    ids=["ctrl-c", "sigterm"],
)
@pytest.mark.parametrize("database", [None, ":memory:", "chosen.sqlite"])
def test_signal_during_upgrade_leaves_no_shadow_database(
    project: ProjectCopy,
    probe_dir: Path,
    tmp_path: Path,
    signum: int,
    status: int,
    word: str,
    database: str | None,
) -> None:
    project.add_probe()
    project.add_email_column()
    options = []
    if database is not None:
        database = database if database == ":memory:" else str(tmp_path / database)
        options = ["--database", database]
    before = project.snapshot()

    run = project.start(
        "makemigrations", "-m", "add email", *options, env=probe_env(probe_dir, "run", hold=True)
    )
    shadow = wait_for_report(probe_dir, "run", run)
    if database is None:
        assert Path(shadow["database"]).is_file()
    result = interrupt(run, signum)

    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(word)
    assert result.stdout == ""
    assert project.leftovers() == []
    if database not in (None, ":memory:"):
        assert list(tmp_path.glob("chosen.sqlite*")) == []
    assert project.snapshot() == before


def test_ctrl_c_while_waiting_for_another_writer(project: ProjectCopy, probe_dir: Path) -> None:
    """The waiting run removes its own shadow database and leaves the other run's alone."""
    project.add_probe()
    project.add_email_column()
    project.announce_loading()
    loaded = probe_dir / "second-loaded"
    first = project.start("makemigrations", "-m", "first", env=probe_env(probe_dir, "first", hold=True))
    held = Path(wait_for_report(probe_dir, "first", first)["database"])
    second_env = probe_env(probe_dir, "second", LOADED=str(loaded))
    second = project.start("makemigrations", "-m", "second", env=second_env)
    wait_for(loaded, second)
    time.sleep(0.5)  # let it reach the history, which the first run holds

    result = interrupt(second)

    assert result.returncode == 130, result.stderr
    assert not (probe_dir / "second.json").exists(), "the second run did not wait for the first"
    assert held.is_file()
    (probe_dir / "release").touch()
    assert finish(first).returncode == 0


SWALLOWING = """\
    try:
        Path({started!r}).touch()
        time.sleep(30)
    except BaseException:  # swallows Ctrl-C, as a weakref callback or a __del__ would
        pass
    for _ in range(300):
        op.execute("SELECT 1")
        time.sleep(0.1)"""


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_a_swallowed_interrupt_comes_back_at_the_next_statement(
    project: ProjectCopy, probe_dir: Path, signum: int, status: int
) -> None:
    """Without that, the run would go on for half a minute and then succeed."""
    started = probe_dir / "started"
    project.add_revision(
        "0003_swallows",
        "0002_posts",
        SWALLOWING.format(started=str(started)),
        imports="import time\nfrom pathlib import Path",
    )

    run = project.start("makemigrations", "--check")
    wait_for(started, run)  # from here on the migration guards
    began = time.monotonic()
    result = interrupt(run, signum)

    assert result.returncode == status, result.stderr
    assert time.monotonic() - began < 20
    assert project.leftovers() == []


#: Every front end's command line, with the main job's options after it.
FRONT_ENDS = {
    "invoke": [sys.executable, "-m", "invoke", "-r", str(REPO), "makemigrations"],
    "python -m": [sys.executable, "-m", "flask_makemigrations"],
    "flask": [str(Path(sys.executable).parent / "flask"), "makemigrations"],
}


def signalled_once_imported(
    project: ProjectCopy, probe_dir: Path, command: list[str], module: str, signum: int
) -> Run:
    """Start ``command`` and signal it the moment Python reports ``module`` imported: the event is the
    import-time profile's line on stderr (``PYTHONPROFILEIMPORTTIME``), written as the import ends.
    The probe migration (which the caller adds) holds the run until the signal is sent, however late
    a loaded machine lets this process see the line: a run that went on would write its revision.
    Returns the run with those profile lines left out of its stderr."""
    lines: list[str] = []
    imported = threading.Event()
    env = {"PYTHONPROFILEIMPORTTIME": "1", **probe_env(probe_dir, "run", hold=True)}
    with subprocess.Popen(
        command,
        cwd=project.root,
        env=project.environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None  # both PIPE
        stderr_lines = process.stderr

        def read_stderr() -> None:
            for line in stderr_lines:
                lines.append(line)
                if line.startswith("import time:") and line.rsplit("|", 1)[-1].strip() == module:
                    imported.set()
            imported.set()  # the process ended first: the assertion below says so

        reader = threading.Thread(target=read_stderr)
        reader.start()
        assert imported.wait(120)
        assert process.poll() is None, f"the run ended before it imported {module}: {''.join(lines)}"
        process.send_signal(signum)
        (probe_dir / "release").touch()  # a signal that got lost lets the run go on
        stdout = process.stdout.read()
        process.wait(120)
        reader.join()
    stderr = "".join(line for line in lines if not line.startswith("import time:"))
    return Run(process.returncode, stdout, stderr)


SIGNALS = pytest.mark.parametrize(
    ("signum", "status", "word", "json_status"),
    [(signal.SIGINT, 130, "Interrupted", "interrupted"), (signal.SIGTERM, 143, "Terminated", "terminated")],
    ids=["ctrl-c", "sigterm"],
)


@SIGNALS
@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_signal_while_the_engine_is_imported_is_reported(
    project: ProjectCopy, probe_dir: Path, front: str, signum: int, status: int, word: str, json_status: str
) -> None:
    """The first half-second of a run imports SQLAlchemy, Alembic and the engine, before the run has
    a shadow database: a signal there is still the run's status, its line and its JSON object."""
    project.add_probe()
    project.add_email_column()
    before = project.snapshot()

    result = signalled_once_imported(
        project, probe_dir, [*FRONT_ENDS[front], "-m", "x", "--format", "json"], "sqlalchemy", signum
    )

    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(word), result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["exit_status"]) == (json_status, status)
    assert project.snapshot() == before


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_ctrl_c_that_leaves_code_run_from_a_string_is_still_the_runs_status(
    project: ProjectCopy, front: str
) -> None:
    """dataclasses and namedtuple make methods with ``exec`` of a string while modules are imported.
    CPython ends a ``python -m`` process by SIGINT once a KeyboardInterrupt has left such code, even
    one the program handled: here the app's import, in the run, sends Ctrl-C to its own process
    inside such code, and the status is still the run's 130, after its report."""
    project.edit(
        "app/models.py",
        "from .extensions import db",
        "from .extensions import db\n"
        "import os, signal\n"
        'exec("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(10 ** 6): pass")',
    )

    result = project.run([*FRONT_ENDS[front], "-m", "x", "--format", "json"])

    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Interrupted"), result.stderr
    assert json.loads(result.stdout)["status"] == "interrupted"


@SIGNALS
def test_a_signal_while_python_m_starts_is_reported(
    project: ProjectCopy, probe_dir: Path, signum: int, status: int, word: str, json_status: str
) -> None:
    """``python -m`` is this package's process from its first line: a signal before the command line
    is even parsed is held until the run can report it."""
    project.add_probe()
    project.add_email_column()

    result = signalled_once_imported(
        project,
        probe_dir,
        [*FRONT_ENDS["python -m"], "--check", "--format", "json"],
        "flask_makemigrations.frontends.runs",
        signum,
    )

    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(word), result.stderr
    assert json.loads(result.stdout)["status"] == json_status


#: A ``sitecustomize`` for the run's process: the first garbage collection in the main thread once
#: the engine is being imported raises SIGNAL_IN_COLLECTION there, inside the collection's callback,
#: where Python prints "Exception ignored in" and drops the exception, as it does in a weakref
#: callback or a ``__del__`` that a collection runs at any instant of the run.
LOST_IN_A_COLLECTION = """\
import gc, os, signal, sys, threading


def _collecting(phase, info):
    importing = "flask_makemigrations.api" in sys.modules
    if phase == "start" and importing and threading.current_thread() is threading.main_thread():
        gc.callbacks.remove(_collecting)
        signal.raise_signal(int(os.environ["SIGNAL_IN_COLLECTION"]))


gc.callbacks.append(_collecting)
"""


@SIGNALS
@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_signal_lost_while_the_engine_is_imported_is_reported(
    project: ProjectCopy, tmp_path: Path, front: str, signum: int, status: int, word: str, json_status: str
) -> None:
    """Before the run has a shadow database there is no next SQL statement to raise a lost signal
    again: the run's end does, with the usual report."""
    project.add_email_column()
    before = project.snapshot()
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(LOST_IN_A_COLLECTION)
    env = {"PYTHONPATH": str(site), "SIGNAL_IN_COLLECTION": str(int(signum))}

    result = project.run([*FRONT_ENDS[front], "-m", "x", "--format", "json"], env=env)

    assert "Exception ignored in" in result.stderr  # the exception was dropped, as under load
    assert result.returncode == status, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(word), result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["exit_status"]) == (json_status, status)
    assert project.snapshot() == before


#: ``script.py.mako`` code that swallows the signal while the revision is rendered, after the run's
#: last SQL statement (a check without verification executes none after autogenerate).
SWALLOWED_WHILE_RENDERING = """\
<%
    import time
    from pathlib import Path
    try:
        Path({started!r}).touch()
        time.sleep(60)
    except BaseException:  # as a template's own code or a post-write hook could
        pass
%>"""


@SIGNALS
@pytest.mark.parametrize("mode", [["--check"], ["-m", "x"]], ids=["check", "writing"])
def test_a_signal_swallowed_after_the_last_statement_ends_the_run(
    project: ProjectCopy,
    probe_dir: Path,
    mode: list[str],
    signum: int,
    status: int,
    word: str,
    json_status: str,
) -> None:
    """Without the run raising it again before it writes and as it ends, the check would report its
    pending changes, and the writing run write its revision."""
    started = probe_dir / "rendering"
    template = project.root / "migrations" / "script.py.mako"
    template.write_text(SWALLOWED_WHILE_RENDERING.format(started=str(started)) + template.read_text())
    project.add_email_column()
    before = project.snapshot()

    run = project.start("makemigrations", *mode, "--no-verify", "--format", "json")
    wait_for(started, run)
    result = interrupt(run, signum)

    assert result.returncode == status, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(word), result.stderr
    assert json.loads(result.stdout)["status"] == json_status
    assert project.snapshot() == before
