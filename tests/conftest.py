"""Fixtures: a private copy of an example project per test, and real ``invoke`` runs inside it.

Every end-to-end test works on its own copy under ``tmp_path``, so the repository's own
``migrations/`` never changes, and runs the tasks as a user would: ``invoke -r <this repository>``
in a subprocess, from the project's directory.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pg_cluster import find_bin_dir, start_cluster, stop_cluster
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent

# Warnings policy: pyproject.toml makes every warning an error in the test process, and the
# subprocesses below turn every DeprecationWarning into an error too, so the project's own code may
# call nothing deprecated on any version of the matrix. These are the known exceptions: deprecations
# inside the libraries, which our code cannot fix. Each is (message prefix, category) and must stay
# narrow; remove one when the matrix no longer needs it.
LIBRARY_DEPRECATIONS = [
    # Flask-Migrate's env.py template calls db.get_engine(), deprecated in Flask-SQLAlchemy 3.0 and 3.1
    # (it falls back to db.engine only on TypeError/AttributeError).
    ("'get_engine' is deprecated", "DeprecationWarning"),
    # Alembic 1.9 calls execute() with an empty parameter list, deprecated in SQLAlchemy 2.1.
    ("Empty parameter sequence passed to execute()", "DeprecationWarning"),
]


def pytest_configure(config):
    for message, category in LIBRARY_DEPRECATIONS:
        config.addinivalue_line("filterwarnings", f"ignore:{message}:{category}")


def subprocess_warnings() -> str:
    """``PYTHONWARNINGS`` for the processes tests start: the same policy as in the test process.

    Later entries win, so the exceptions come after the rule. Messages are literal prefixes here.
    """
    return ",".join(["error::DeprecationWarning"] + [f"ignore:{m}:{c}" for m, c in LIBRARY_DEPRECATIONS])


@dataclass
class ExampleProject:
    """A Flask-Migrate project on disk that tests may change freely."""

    root: Path

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / "versions"

    def revision_files(self) -> list:
        return sorted(p.name for p in self.versions.glob("*.py"))

    def invoke(self, *args, env=None, timeout=120, **popen) -> subprocess.CompletedProcess:
        """Run ``invoke -r <repo> ARGS`` in the project and wait for it."""
        return subprocess.run(
            self.invoke_command(*args),
            cwd=self.root,
            env=self.environment(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            **popen,
        )

    def invoke_command(self, *args) -> list:
        return [sys.executable, "-m", "invoke", "-r", str(REPO), *args]

    def environment(self, extra=None) -> dict:
        """The caller's environment without anything that would point the app elsewhere."""
        env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "DATABASE_URL")}
        env["PYTHONWARNINGS"] = subprocess_warnings()
        env.update(extra or {})
        return env

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace text in a project file, failing loudly if the text is not there."""
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    def add_model_line(self, after: str, line: str) -> None:
        self.edit("app/models.py", after, f"{after}\n    {line}")


@pytest.fixture
def project(tmp_path) -> ExampleProject:
    """A copy of this repository's example app and its migrations."""
    root = tmp_path / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "instance")
    shutil.copytree(REPO / "app", root / "app", ignore=ignore)
    shutil.copytree(REPO / "migrations", root / "migrations", ignore=ignore)
    return ExampleProject(root)


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL server for this test process (one per pytest-xdist worker).

    Skipped where PostgreSQL or its driver is not installed, unless REQUIRE_POSTGRES=1 (CI sets it):
    there, a missing server must fail the run rather than pass it silently.
    """
    bin_dir = find_bin_dir()
    default_driver = make_url("postgresql://").get_dialect().driver  # psycopg2 or, from 2.1, psycopg
    missing = None
    if bin_dir is None:
        missing = "PostgreSQL server programs (initdb, pg_ctl) are not installed"
    elif importlib.util.find_spec(default_driver) is None:
        missing = f"the {default_driver} driver is not installed (pip install -e '.[dev]')"
    if missing and os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{missing}, and REQUIRE_POSTGRES=1 requires the PostgreSQL tests")
    if missing:
        pytest.skip(missing)
    cluster = start_cluster(bin_dir)
    yield cluster
    stop_cluster(cluster)
