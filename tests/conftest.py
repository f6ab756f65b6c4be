"""Fixtures: a private copy of a project per test, and real ``invoke`` runs inside it.

Every end-to-end test works on its own copy under ``tmp_path``, so the repository's own
``migrations/`` never changes, and runs the tasks as a user would: ``invoke -r <this repository>``
in a subprocess, from the project's directory. Each run gets a private ``TMPDIR`` (where its shadow
database lives) and ``HOME`` (so no user's Invoke configuration applies), and every test ends by
checking that no shadow database was left behind there.
"""

import compileall
import importlib.util
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from loopback import stop_and_remove
from mariadb_server import Server, find_server, start_server
from pg_cluster import Cluster, find_bin_dir, start_cluster
from sqlalchemy.engine import make_url

from flask_makemigrations.findings import Finding

if TYPE_CHECKING:
    from flask_makemigrations import Result, Runtime, Verified
    from flask_makemigrations.frontends.report import Report
    from flask_makemigrations.run.run import Built

#: The ``server`` fixture of the conformance suite (tests/servers/test_conformance.py).
pytest_plugins = ["server_backends"]

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

#: The line of the example's ``User`` model that tests add columns after.
USERNAME = "username = db.Column(db.String(80), unique=True, nullable=False)"
#: A column to add to ``User``.
EMAIL = "email = db.Column(db.String(120))"
#: The line of the example's ``Post`` model that tests add table arguments after.
BODY = "body = db.Column(db.Text, nullable=False)"
#: The head of the example's history.
HEAD = "0002_posts"

#: Variables that would point a run at another app, database or configuration.
_SCRUBBED = ("FLASK_APP", "DATABASE_URL", "TMPDIR", "HOME", "XDG_CACHE_HOME")
_SCRUBBED_PREFIXES = ("INVOKE_",)

#: A migration that reports which database it runs on and, if asked, holds the upgrade there.
#: Driven by environment variables of the run: PROBE_DIR (where to report; unset: do nothing),
#: PROBE_NAME (the report's name) and PROBE_HOLD (wait until PROBE_DIR/release exists).
_PROBE_UPGRADE = """\
    probe_dir = os.environ.get("PROBE_DIR")
    if not probe_dir:
        return
    url = op.get_bind().engine.url
    report = {"pid": os.getpid(), "database": url.database, "url": url.render_as_string()}
    name = os.environ.get("PROBE_NAME", str(os.getpid()))
    staged = os.path.join(probe_dir, "." + name + ".tmp")
    with open(staged, "w") as handle:
        json.dump(report, handle)
    os.replace(staged, os.path.join(probe_dir, name + ".json"))
    if os.environ.get("PROBE_HOLD"):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not os.path.exists(os.path.join(probe_dir, "release")):
            time.sleep(0.02)"""

# Warnings policy: pyproject.toml makes every warning an error in the test process, and the
# subprocesses below turn every DeprecationWarning into an error too, so the project's own code may
# call nothing deprecated on any version of the matrix. These are the known exceptions: deprecations
# inside the libraries, which our code cannot fix. Each is (message prefix, category) and must stay
# narrow; remove one when the matrix no longer needs it.
LIBRARY_DEPRECATIONS = [
    # Flask-Migrate's env.py template calls db.get_engine(), deprecated in Flask-SQLAlchemy 3.0 and 3.1
    # (it falls back to db.engine only on TypeError/AttributeError).
    ("'get_engine' is deprecated", "DeprecationWarning"),
]


def pytest_configure(config: pytest.Config) -> None:
    for message, category in LIBRARY_DEPRECATIONS:
        config.addinivalue_line("filterwarnings", f"ignore:{message}:{category}")
    if not hasattr(config, "workerinput"):  # once: in the controller, not in each xdist worker
        compile_package()


#: The fixtures that start a server: a test that uses one (directly or through another fixture) is
#: marked ``server``, which the Nox sessions whose libraries another session proves on the servers
#: deselect (see noxfile.py).
SERVER_FIXTURES = {"postgres", "mariadb", "server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


def compile_package() -> None:
    """Write the package's bytecode before the tests start their processes, which all import it.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (CI machines often set it), no process writes it, so
    each one would compile every module of the package again. An editable install keeps the package
    in ``src/``, which no installer compiles. Up-to-date files are left as they are; a module edited
    later is compiled again by Python, as always; a folder that cannot be written is skipped.
    """
    spec = importlib.util.find_spec("flask_makemigrations")
    assert spec is not None and spec.origin is not None  # the package under test is installed
    compileall.compile_dir(Path(spec.origin).parent, quiet=2)


def subprocess_warnings() -> str:
    """``PYTHONWARNINGS`` for the processes tests start: the same policy as in the test process.

    Later entries win, so the exceptions come after the rule. Messages are literal prefixes here.
    """
    return ",".join(["error::DeprecationWarning"] + [f"ignore:{m}:{c}" for m, c in LIBRARY_DEPRECATIONS])


@dataclass
class Run:
    """A finished ``invoke`` run."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The run's one error line; fails if stderr is anything but exactly one ``Error:`` line."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), self.stderr
        return lines[0]


@dataclass
class ProjectCopy:
    """A Flask-Migrate project on disk that tests may change freely."""

    root: Path
    tmpdir: Path  # TMPDIR of every run
    home: Path  # HOME of every run

    # -- the files ---------------------------------------------------------------------------------

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    @property
    def versions(self) -> Path:
        return self.migrations / "versions"

    def revision_files(self) -> list[str]:
        return sorted(p.name for p in self.versions.glob("*.py"))

    def new_revisions(self, before: list[str]) -> list[Path]:
        """Paths of the revision files that are not in ``before`` (a ``revision_files()`` list)."""
        return [self.versions / name for name in sorted(set(self.revision_files()) - set(before))]

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the project and its bytes (bytecode caches aside)."""
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace text in a project file, failing loudly if the text is not there."""
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    def add_model_line(self, after: str, line: str) -> None:
        self.edit("app/models.py", after, f"{after}\n    {line}")

    def announce_loading(self) -> None:
        """Make the app touch the file named by $LOADED when it loads (to know a run got that far)."""
        announce = 'import os\n\nif os.environ.get("LOADED"):\n    open(os.environ["LOADED"], "w").close()'
        self.edit("app/models.py", "from .extensions import db", f"from .extensions import db\n{announce}")

    def add_email_column(self) -> None:
        """The model change most tests make: ``User.email``."""
        self.add_model_line(USERNAME, EMAIL)

    def add_revision(
        self,
        revision: str,
        down_revision: str | tuple[str, ...] | None,  # a tuple: a merge's parents
        upgrade: str = "    pass",
        imports: str = "",
        message: str = "",
        downgrade: str = "    pass",
    ) -> Path:
        """Hand-write a revision file, as a developer (or a merged branch) would (bodies indented)."""
        return self.write(
            f"migrations/versions/{revision}.py",
            _synthetic().REVISION.format(
                message=message or revision,
                revision=revision,
                down_revision=down_revision,
                imports=imports,
                upgrade=upgrade,
                downgrade=downgrade,
            ),
        )

    def add_probe(self, revision: str = "0003_probe", down_revision: str = HEAD) -> Path:
        """Add the probe migration (see ``_PROBE_UPGRADE``) after the head."""
        return self.add_revision(revision, down_revision, _PROBE_UPGRADE, imports="import json, os, time")

    def revisions(self) -> dict[str, Any]:
        """``{revision: down_revision}`` for every file in ``versions/``, read as Alembic does."""
        from alembic.script import ScriptDirectory

        script = ScriptDirectory(str(self.migrations))
        return {rev.revision: rev.down_revision for rev in script.walk_revisions()}

    def heads(self) -> list[str]:
        from alembic.script import ScriptDirectory

        return list(ScriptDirectory(str(self.migrations)).get_heads())

    def leftovers(self) -> list[str]:
        """What runs left in their TMPDIR (shadow databases, staging copies, lock files): nothing."""
        return sorted(p.name for p in self.tmpdir.iterdir())

    # -- the engine, in this process ------------------------------------------------------------

    @contextmanager
    def inside(self, env: dict[str, str] | None = None) -> Iterator[None]:
        """This process as a run of the tool in the project would see it: the project's directory,
        the environment of ``environment()`` (TMPDIR, HOME, nothing pointing elsewhere). Afterwards
        everything is put back, and the modules imported from the project (the app, its models) are
        forgotten, so that the next test imports its own project afresh."""
        saved_env, saved_cwd, saved_path = dict(os.environ), os.getcwd(), sys.path[:]
        saved_modules, saved_tempdir = set(sys.modules), tempfile.tempdir
        saved_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # edits are seen
        os.environ.clear()
        os.environ.update(self.environment(env))
        os.environ.pop("PYTHONWARNINGS")  # pytest's own filters apply in this process
        tempfile.tempdir = None  # read $TMPDIR again
        os.chdir(self.root)
        try:
            yield
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            tempfile.tempdir = saved_tempdir
            sys.dont_write_bytecode = saved_bytecode
            sys.path[:] = saved_path
            for name in set(sys.modules) - saved_modules:
                if _inside(getattr(sys.modules[name], "__file__", None), self.root):
                    del sys.modules[name]

    def make_migrations(
        self,
        message: str | None = None,
        env: dict[str, str] | None = None,
        where: dict[str, Any] | None = None,
        runtime: "Runtime | None" = None,
        **options: Any,
    ) -> "Result":
        """``make_migrations`` through the engine's API, in this process; returns its ``Result``.
        ``where``: the ``Project``'s fields (``database``, ``app``, ...); ``options``: the request's,
        with ``check``/``dry_run`` for its mode, as the command-line flags give it; ``runtime``: how
        a front end runs it (``verbose``), the API's default if not given."""
        with self.inside(env):
            return _make_migrations_here(message, where, options, runtime)

    def makemigrations_shown(
        self,
        message: str | None = None,
        env: dict[str, str] | None = None,
        where: dict[str, Any] | None = None,
        verbose: bool = False,
        **options: Any,
    ) -> Run:
        """``make_migrations`` in this process, and what ``invoke makemigrations`` would write of its
        ``Result``, made by that front end's own render functions as ``runs.py`` calls them: the text
        and exit status a process shows, without the process (most of its time is imports).
        An exception is shown as the front end shows it (one ``Error:`` line and its exit status; with
        ``verbose``, as ``--verbose`` does, a bug's traceback too). ``format="json"``: stdout is the
        JSON document; other arguments as ``make_migrations``."""
        from flask_makemigrations import Runtime
        from flask_makemigrations.frontends import json_report, report
        from flask_makemigrations.frontends.invoke_tasks import RUN_AGAIN, SPELLING

        as_json, dry_run = options.pop("format", "text") == "json", options.get("dry_run", False)
        runtime = Runtime(verbose=True) if verbose else None
        with self.inside(env):  # paths are shown relative to the project, as from its directory
            try:
                result = _make_migrations_here(message, where, options, runtime)
            except Exception as exc:  # as runs._reported: the engine's errors and bugs alike
                shown = report.of_exception(exc, SPELLING, verbose)
                payload = json_report.of_exception(exc, shown, "makemigrations", SPELLING)
            else:
                shown = report.of_makemigrations(result, dry_run, RUN_AGAIN, SPELLING)
                payload = json_report.of_makemigrations(result, dry_run, SPELLING)
        return _as_run(json_report.as_json(shown, payload) if as_json else shown)

    def refused_shown(self, shown: Callable[..., Run], *args: Any, **kwargs: Any) -> str:
        """``refuses`` for a run in this process (``makemigrations_shown``...): exit status 2, nothing
        on stdout, one ``Error:`` line, the project byte-identical and nothing left in its TMPDIR."""
        before = self.snapshot()
        result = shown(*args, **kwargs)
        assert (result.returncode, result.stdout) == (2, ""), (
            result.returncode,
            result.stdout,
            result.stderr,
        )
        error = result.error
        assert self.snapshot() == before, "a failed run changed the project"
        assert self.leftovers() == [], "a failed run left files behind"
        return error

    def merge_shown(self, rev_id: str | None = None) -> Run:
        """``merge_heads`` in this process, and what ``invoke merge`` would write of it (see
        ``makemigrations_shown``)."""
        from flask_makemigrations import Project, merge_heads
        from flask_makemigrations.frontends import report

        with self.inside():
            return _shown_here(lambda: report.of_merge(merge_heads(Project(), rev_id=rev_id)))

    def squash_shown(self, message: str, dry_run: bool = False) -> Run:
        """``squash_history`` in this process, and what ``invoke squash`` would write of it (see
        ``makemigrations_shown``)."""
        from flask_makemigrations import Project, squash_history
        from flask_makemigrations.frontends import report
        from flask_makemigrations.frontends.invoke_tasks import SPELLING

        with self.inside():
            return _shown_here(
                lambda: report.of_squash(squash_history(Project(), message, dry_run=dry_run), SPELLING)
            )

    def cache_shown(
        self, clear: bool = False, directory: str | None = None, database: str | None = None
    ) -> Run:
        """The cache task's engine calls in this process, and what ``invoke cache`` would write of them
        (see ``makemigrations_shown``): its files and templates listed, or with ``clear`` removed."""
        from flask_makemigrations.api import cache_state, clear_snapshots
        from flask_makemigrations.frontends import report

        def shown() -> "Report":
            if clear:
                return report.of_cleared_cache(clear_snapshots(database))
            return report.of_cache(cache_state(directory, database), directory or "migrations")

        with self.inside():
            return _shown_here(shown)

    def prune_shown(self, database: str | None = None) -> Run:
        """``prune_shadow_databases`` in this process, and what ``invoke prune`` would write of it."""
        from flask_makemigrations import prune_shadow_databases
        from flask_makemigrations.frontends import report

        with self.inside():
            return _shown_here(lambda: report.of_prune(prune_shadow_databases(database)))

    def verify_history(
        self, env: dict[str, str] | None = None, where: dict[str, Any] | None = None
    ) -> "Verified":
        from flask_makemigrations import Project, verify_history

        with self.inside(env):
            return verify_history(Project(**(where or {})))

    def verify_shown(self, env: dict[str, str] | None = None, where: dict[str, Any] | None = None) -> Run:
        """``verify_history`` in this process, and what ``invoke verify`` would write of it (see
        ``makemigrations_shown``); the time it took is measured as ``runs.py`` measures it."""
        from flask_makemigrations.frontends import report
        from flask_makemigrations.frontends.invoke_tasks import SPELLING

        started = time.monotonic()
        verified = self.verify_history(env, where)
        return _as_run(report.of_verify(verified, time.monotonic() - started, SPELLING))

    def engine_refuses(self, call: Callable[..., object], *args: Any, **kwargs: Any) -> str:
        """Call one of the methods above, expect the engine's error (which every front end reports as
        one ``Error:`` line and exit status 2), and check the project is byte-identical and the run
        left nothing in its TMPDIR; returns the error's one line."""
        from flask_makemigrations import MakemigrationsError

        before = self.snapshot()
        with pytest.raises(MakemigrationsError) as raised:
            call(*args, **kwargs)
        assert self.snapshot() == before, "a failed run changed the project"
        assert self.leftovers() == [], "a failed run left files behind"
        message = str(raised.value)
        assert "\n" not in message
        return message

    # -- the runs ----------------------------------------------------------------------------------

    def invoke_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "invoke", "-r", str(REPO), *args]

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The caller's environment without anything that would point the run elsewhere."""
        env = {
            k: v for k, v in os.environ.items() if k not in _SCRUBBED and not k.startswith(_SCRUBBED_PREFIXES)
        }
        env.update(TMPDIR=str(self.tmpdir), HOME=str(self.home), PYTHONWARNINGS=subprocess_warnings())
        env.update(extra or {})
        return env

    def invoke(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        """Run ``invoke -r <repo> ARGS`` in the project and wait for it."""
        return self.run(self.invoke_command(*args), env=env, timeout=timeout)

    def run(self, command: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        """Run any command line in the project, with the environment of every run, and wait for it."""
        done = subprocess.run(
            command,
            cwd=self.root,
            env=self.environment(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def invoke_on_terminal(self, *args: str, timeout: float = 120) -> Run:
        """Like ``invoke``, with stderr on a pseudo-terminal, as a user at a shell sees it
        (the terminal turns each newline into CR LF)."""
        controller, terminal = pty.openpty()
        with subprocess.Popen(
            self.invoke_command(*args),
            cwd=self.root,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
        ) as process:
            os.close(terminal)
            shown = _read_until_closed(controller, process, timeout)
            assert process.stdout is not None  # stdout=PIPE
            stdout = process.stdout.read()
            process.wait()
        return Run(process.returncode, stdout.decode(), shown.decode())

    def start(
        self, *args: str, env: dict[str, str] | None = None, command: list[str] | None = None
    ) -> subprocess.Popen[str]:
        """Start ``invoke -r <repo> ARGS`` (or ``command`` and ARGS) in the project without waiting;
        see ``finish``."""
        return subprocess.Popen(
            [*command, *args] if command is not None else self.invoke_command(*args),
            cwd=self.root,
            env=self.environment(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def refuses(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run, expect one ``Error:`` line and exit 2, and check the project is byte-identical."""
        return self.refuses_command(self.invoke_command(*args), env=env)

    def refuses_command(self, command: list[str], env: dict[str, str] | None = None) -> str:
        """``refuses`` for any command line (the other front ends)."""
        before = self.snapshot()
        result = self.run(command, env=env)
        assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
        assert result.stdout == "", result.stdout
        error = result.error
        assert self.snapshot() == before, "a failed run changed the project"
        return error


def _make_migrations_here(
    message: str | None,
    where: dict[str, Any] | None,
    options: dict[str, Any],
    runtime: "Runtime | None" = None,
) -> "Result":
    """``ProjectCopy.make_migrations``'s call, made inside the project (``ProjectCopy.inside``)."""
    from flask_makemigrations import Mode, Project, Request, make_migrations

    mode = Mode.from_flags(options.pop("check", False), options.pop("dry_run", False))
    request = Request(mode=mode, message=message, **options)
    if runtime is None:
        return make_migrations(Project(**(where or {})), request)
    return make_migrations(Project(**(where or {})), request, runtime)


def _shown_here(run: Callable[[], "Report"]) -> Run:
    """A task's report, or the exception that ended it as the front end reports one (``runs._reported``),
    as its process would show them (``_as_run``)."""
    from flask_makemigrations.frontends import report
    from flask_makemigrations.frontends.invoke_tasks import SPELLING

    try:
        return _as_run(run())
    except Exception as exc:
        return _as_run(report.of_exception(exc, SPELLING))


def _as_run(shown: "Report") -> Run:
    """A front end's report as the process that writes it out shows it (``runs.write``): its lines on
    stdout and on stderr, the closing line last on stderr, and its exit status."""
    stderr = [*shown.stderr, *([shown.closing] if shown.closing else [])]
    return Run(
        shown.status, "".join(f"{line}\n" for line in shown.stdout), "".join(f"{line}\n" for line in stderr)
    )


def _inside(path: str | None, folder: Path) -> bool:
    return path is not None and Path(path).resolve().is_relative_to(folder.resolve())


def _read_until_closed(controller: int, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """Everything written to a pseudo-terminal until its last writer is gone (Linux then says EIO);
    a run still writing after ``timeout`` seconds is killed and fails the test."""
    deadline = time.monotonic() + timeout
    shown = b""
    try:
        while select.select([controller], [], [], max(0.0, deadline - time.monotonic()))[0]:
            chunk = os.read(controller, 65536)
            if not chunk:
                break
            shown += chunk
        else:
            process.kill()
            pytest.fail(f"the run did not finish within {timeout}s: {shown.decode(errors='replace')}")
    except OSError:
        pass
    finally:
        os.close(controller)
    return shown


def finish(process: subprocess.Popen[str], timeout: float = 120) -> Run:
    """Wait for a started run and collect its output."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"run did not finish: {stderr}")
    return Run(process.returncode, stdout, stderr)


class Printed(Protocol):
    """A run's result that may have written a revision (``path``) or printed its script."""

    @property
    def path(self) -> Path | None: ...

    @property
    def script(self) -> str | None: ...


def written_text(result: Printed) -> str:
    """The text of the revision file a run wrote (failing the test if it wrote none)."""
    assert result.path is not None, "the run wrote no revision"
    return result.path.read_text()


def dry_run_script(result: Printed) -> str:
    """The script a dry run printed instead of writing it (failing the test if there is none)."""
    assert result.script is not None, "the run printed no script"
    return result.script


def findings(lines: list[str]) -> list[Finding]:
    """The lines a run reported, each the ``Finding`` it is (every line the engine reports is one)."""
    assert all(isinstance(line, Finding) for line in lines), lines
    return [line for line in lines if isinstance(line, Finding)]


def shadow_build(result: "Result") -> "Built":
    """How the run's shadow database reached head (failing the test if it needed none)."""
    assert result.built is not None, "the run built no shadow database"
    return result.built


def wait_for(path: Path, *processes: subprocess.Popen[str], timeout: float = 60) -> Path:
    """Wait until ``path`` exists, failing early if one of ``processes`` ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        for process in processes:
            if process.poll() is not None:
                run = finish(process)
                pytest.fail(f"run ended (exit {run.returncode}) before {path.name} appeared: {run.stderr}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.02)
    return path


def wait_for_report(probe_dir: Path, name: str, *processes: subprocess.Popen[str]) -> dict[str, Any]:
    """Wait until the probe migration reported ``name`` (while ``processes`` are still running)."""
    report: dict[str, Any] = json.loads(wait_for(probe_dir / f"{name}.json", *processes).read_text())
    return report


def probe_env(probe_dir: Path, name: str, hold: bool = False, **extra: str) -> dict[str, str]:
    env = {"PROBE_DIR": str(probe_dir), "PROBE_NAME": name, **extra}
    if hold:
        env["PROBE_HOLD"] = "1"
    return env


def interrupt(process: subprocess.Popen[str], signum: int = signal.SIGINT) -> Run:
    """Send a signal to a run (the invoke process itself, as a terminal or a supervisor would)."""
    os.kill(process.pid, signum)
    return finish(process)


def _copy_project(tmp_path: Path, sources: dict[str, Path]) -> ProjectCopy:
    root = tmp_path / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "instance", "*.pyc")
    for target, source in sources.items():
        shutil.copytree(source, root / target, ignore=ignore, dirs_exist_ok=True)
    return project_at(root, tmp_path)


def project_at(root: Path, tmp_path: Path) -> ProjectCopy:
    """A project already on disk at ``root``, with its runs' TMPDIR and HOME beside it."""
    tmpdir, home = tmp_path / "tmp", tmp_path / "home"
    tmpdir.mkdir()
    home.mkdir()
    return ProjectCopy(root, tmpdir, home)


def _synthetic() -> Any:
    """The benchmark's project generator (``benchmarks/synthetic.py``), whose app, revision template
    and projects the tests use too."""
    if str(REPO / "benchmarks") not in sys.path:
        sys.path.insert(0, str(REPO / "benchmarks"))
    import synthetic  # type: ignore[import-not-found]  # benchmarks/ is not a package mypy checks

    return synthetic


def synthetic_project(tmp_path: Path, revisions: int) -> ProjectCopy:
    """A project with a long history, built by the benchmark's generator: its models match the history
    but for one pending column."""
    return project_at(_synthetic().build(tmp_path / "synthetic", revisions, REPO / "migrations"), tmp_path)


def synthetic_skeleton(root: Path) -> Path:
    """The benchmark's app (no models yet) and this repository's env.py under ``root``, no revisions:
    the versions folder, for a test to fill."""
    versions: Path = _synthetic().skeleton(root, REPO / "migrations")
    return versions


@pytest.fixture
def project(tmp_path: Path) -> Iterator[ProjectCopy]:
    """A copy of this repository's example app and its migrations."""
    copy = _copy_project(tmp_path, {"app": REPO / "app", "migrations": REPO / "migrations"})
    yield copy
    assert copy.leftovers() == [], "a run left its shadow database behind"


@pytest.fixture
def foreign_project(tmp_path: Path) -> Iterator[ProjectCopy]:
    """Another team's project (``tests/projects/foreign``): package ``mypkg``, its own ``tasks.py``
    and ``app`` package, a ``wsgi.py``, and a Flask-Migrate directory with no revisions yet."""
    copy = _copy_project(tmp_path, {".": TESTS / "projects" / "foreign", "migrations": REPO / "migrations"})
    for revision in copy.versions.glob("*.py"):
        revision.unlink()
    yield copy
    assert copy.leftovers() == [], "a run left its shadow database behind"


@pytest.fixture
def binds_project(tmp_path: Path) -> Iterator[ProjectCopy]:
    """An app with two binds, ``audit`` and ``analytics`` (``tests/projects/binds``), and its history,
    made with ``flask db init --multidb`` and ``flask db migrate``: users, audit entries and page
    views (0001_initial), then a column in ``audit`` (0002_audit_user)."""
    copy = _copy_project(tmp_path, {".": TESTS / "projects" / "binds"})
    yield copy
    assert copy.leftovers() == [], "a run left a shadow database behind"


@pytest.fixture
def probe_dir(tmp_path: Path) -> Path:
    """Where the probe migration reports (outside the project)."""
    path = tmp_path / "probe"
    path.mkdir()
    return path


@dataclass
class Tmpfs:
    """A small file system of its own mounted over a folder, to make a disk full or read-only."""

    path: Path

    def fill(self, leave: int = 0) -> None:
        """Write a filler file until the file system says it is full, then free ``leave`` bytes."""
        with open(self.path / ".filler", "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"x" * 4096)
            except OSError:
                pass
            handle.truncate(max(0, handle.tell() - leave))

    def make_read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)


@pytest.fixture
def tmpfs() -> Iterator[Callable[..., Tmpfs]]:
    """``tmpfs(folder, size="64k")`` mounts a fresh tmpfs over ``folder``, keeping what it held.

    Needs root (and a kernel that lets this process mount): skipped without. Unmounted at the end.
    """
    mounted: list[Path] = []

    def mount(folder: Path, size: str = "64k") -> Tmpfs:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        kept = folder.with_name(folder.name + ".kept")
        folder.mkdir(exist_ok=True)
        folder.rename(kept)
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)])
        if done.returncode != 0:
            folder.rmdir()
            kept.rename(folder)
            pytest.skip("this machine does not let the tests mount a tmpfs")
        mounted.append(folder)
        shutil.copytree(kept, folder, dirs_exist_ok=True)
        shutil.rmtree(kept)
        return Tmpfs(folder)

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A private PostgreSQL server for this test process (one per pytest-xdist worker)."""
    default_driver = make_url("postgresql://").get_dialect().driver  # psycopg2 or, from 2.1, psycopg
    bin_dir = _server_programs(
        find_bin_dir(),
        not_found="PostgreSQL server programs (initdb, pg_ctl) are not installed",
        driver=(default_driver, default_driver),
        required_by="REQUIRE_POSTGRES",
        tests="PostgreSQL",
    )
    cluster = start_cluster(bin_dir)
    yield cluster
    stop_and_remove(cluster)


@pytest.fixture(scope="session")
def mariadb() -> Iterator[Server]:
    """A private MariaDB server for this test process (one per pytest-xdist worker)."""
    sbin = _server_programs(
        find_server(),
        not_found="the MariaDB server (mariadbd, mariadb-install-db) is not installed",
        driver=("pymysql", "PyMySQL"),
        required_by="REQUIRE_MARIADB",
        tests="MariaDB",
    )
    server = start_server(sbin)
    yield server
    stop_and_remove(server)


def _server_programs(
    found: Path | None, *, not_found: str, driver: tuple[str, str], required_by: str, tests: str
) -> Path:
    """The folder of a server's programs, ``found`` by its fixture. Where they or the ``driver``
    (module, name) are not installed the tests that need the server are skipped, unless
    ``$required_by`` is 1 (CI sets it): there, a missing server must fail the run rather than pass
    it silently."""
    module, name = driver
    missing = None
    if found is None:
        missing = not_found
    elif importlib.util.find_spec(module) is None:
        missing = f"the {name} driver is not installed (pip install -e '.[dev]')"
    if missing and os.environ.get(required_by) == "1":
        pytest.fail(f"{missing}, and {required_by}=1 requires the {tests} tests")
    if missing:
        pytest.skip(missing)
    assert found is not None  # else skipped above
    return found
