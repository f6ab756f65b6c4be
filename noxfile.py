"""The test suite across the supported library versions, and lint.

``nox`` runs every session below; ``nox -s "tests(floor)"`` runs one combination;
``nox -l`` lists them. Arguments after ``--`` go to pytest (``nox -s tests -- -k merge -x``).
"""

import json
import shutil
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint"]

# The floor Python (3.11) runs the old library lines; the newer Pythons the newer lines (the
# libraries' newest releases are the ones that support a new Python first).
PYTHON = "3.11"

# What a session reports, and checks against what it pinned: the four libraries the tool drives,
# plus Flask, the Werkzeug it runs on, and Invoke. What a combination does not pin, the resolver picks
# (the newest it can).
PINNED = ("sqlalchemy", "alembic", "flask-sqlalchemy", "flask-migrate", "flask", "werkzeug", "invoke")

# One ruff and one mypy for everyone: a newer one may add rules or change formatting, or find new
# errors (keep both in step with the dev extra).
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"


def _floor() -> dict:
    """Every lower bound in pyproject.toml as an exact pin: the floor combination proves them all."""
    project = tomllib.loads(Path(__file__).with_name("pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in map(Requirement, project["dependencies"] + project["optional-dependencies"]["tasks"]):
        (lower,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        pins[canonicalize_name(requirement.name)] = f"=={lower}"
    return pins


# Flask 2.0 and 2.1 require Werkzeug >= 2.0 and no more, but import ``werkzeug.urls.url_quote``, which
# Werkzeug 2.3 deprecates and 3.0 removes: each runs on the Werkzeug of its own release, as projects on
# those lines pin it.
WERKZEUG_OF_FLASK = {"2.0": "==2.0.*", "2.1": "==2.1.*"}
# Flask 2.0 finds plugin commands (``flask makemigrations``, and ``flask db`` before Flask-Migrate 4.0)
# through setuptools' pkg_resources, which uv's environments lack: the setuptools Python 3.11's venv
# installs (later ones warn when pkg_resources is imported, and the newest have none).
SETUPTOOLS_OF_FLASK_2_0 = "==65.5.*"


# Each combination run on Python 3.11, with what it proves. The Alembic lines: 1.9 (the oldest
# supported), 1.19 (the newest for SQLAlchemy 1.4: Alembic 1.20 requires 2.0) and the newest; the one
# Alembic feature the engine detects (the quiet option, new in 1.11) is exercised missing and present.
# Flask-SQLAlchemy 2.5.1 requires SQLAlchemy 1.4 (and Flask < 2.3); 3.0.5 is the last 3.0 release;
# 3.1 requires SQLAlchemy >= 2.0.16. Middle combinations (Alembic 1.9 with SQLAlchemy 2.0 or 2.1,
# Flask-Migrate 4.1 with SQLAlchemy 1.4, 2.0 with the newest Alembic on 3.11) install and pass too,
# but add time and no coverage: each line is proven at its ends. So does the newest of everything
# on 3.11 as well as on 3.13: each of the two dimensions is proven at its ends by the other sessions.
COMBINATIONS = {
    # Every lower bound of pyproject.toml at once: Flask 2.0, Flask-SQLAlchemy 2.5.1 (no db.engines or
    # db.metadatas: one MetaData, engines made on demand), Flask-Migrate 2.5.3, Alembic 1.9.0,
    # SQLAlchemy 1.4.46, Click 8.1.3, Invoke 2.2.
    "floor": {**_floor(), "werkzeug": WERKZEUG_OF_FLASK["2.0"], "setuptools": SETUPTOOLS_OF_FLASK_2_0},
    # The 2.x lines as projects pin them (Flask 2.1, Flask-SQLAlchemy 2.5.1, Flask-Migrate 2.5.3), on
    # the newest SQLAlchemy 1.4 and the newest Alembic it allows.
    "flask2.1-fsa2.5-fm2.5": {
        "flask": "==2.1.*",
        "werkzeug": WERKZEUG_OF_FLASK["2.1"],
        "flask-sqlalchemy": "==2.5.1",
        "flask-migrate": "==2.5.3",
        "sqlalchemy": "==1.4.*",
        "alembic": "==1.19.*",
    },
    # Flask-Migrate 3.x, with Flask-SQLAlchemy 3.0 on SQLAlchemy 1.4 and the newest Flask.
    "fm3.1-fsa3.0-sa1.4": {
        "flask-migrate": "==3.1.0",
        "flask-sqlalchemy": "==3.0.5",
        "sqlalchemy": "==1.4.*",
        "alembic": "==1.19.*",
    },
}

# The newest of everything.
NEWEST = "sa2.1-alembic1.20"
NEWEST_PINS = {
    "flask-migrate": "==4.1.0",
    "flask-sqlalchemy": "==3.1.*",
    "sqlalchemy": "==2.1.*",
    "alembic": "==1.20.*",
}

# The newer Pythons: 3.12 with SQLAlchemy 2.0 and the oldest Flask-Migrate 4.x supported, which
# proves them with the newest Alembic (and the Python); 3.13 with the newest of everything.
NEWER_PYTHONS = {
    "3.12": (
        "fm4.0.5-sa2.0-alembic1.20",
        {**NEWEST_PINS, "sqlalchemy": "==2.0.*", "flask-migrate": "==4.0.5"},
    ),
    "3.13": (NEWEST, NEWEST_PINS),
}

# Which tests a session runs, as a pytest marker expression (None: all of them). Tests marked
# ``version_independent`` (signals, concurrency, the progress line, the benchmark's smoke run, ...)
# exercise only this package's own code: the newest combination runs them, the others deselect
# them. Tests marked ``server`` (tests/conftest.py: those that start PostgreSQL or MariaDB) prove
# what SQLAlchemy, Alembic and Flask-SQLAlchemy do on a server: a session whose lines other
# sessions prove there leaves them out.
EVERY_TEST = None
LIBRARY_TESTS = "not version_independent"
LIBRARY_TESTS_BUT_SERVERS = "not version_independent and not server"
SELECTION = {
    f"{NEWEST}-py3.13": EVERY_TEST,
    # Its SQLAlchemy 1.4 and Alembic 1.19 are fm3.1's, its Flask-SQLAlchemy 2.5.1 and Flask-Migrate
    # 2.5.3 the floor's: both run the server tests with them. What is its own, Flask 2.1's app
    # discovery and plugin commands, runs on SQLite.
    "flask2.1-fsa2.5-fm2.5": LIBRARY_TESTS_BUT_SERVERS,
}


def _combinations():
    """Every library combination on Python 3.11, then the newer Pythons, each with its selection of
    tests (``SELECTION``; by default the library tests)."""
    for name, pins in COMBINATIONS.items():
        yield nox.param(PYTHON, pins, SELECTION.get(name, LIBRARY_TESTS), id=name)
    for python, (name, pins) in NEWER_PYTHONS.items():
        session = f"{name}-py{python}"
        yield nox.param(python, pins, SELECTION.get(session, LIBRARY_TESTS), id=session)


# Prints {distribution: version} for the pinned packages, as installed in the session's environment.
_INSTALLED = (
    "import json, sys\n"
    "from importlib.metadata import PackageNotFoundError, version\n"
    "def v(name):\n"
    "    try:\n"
    "        return version(name)\n"
    "    except PackageNotFoundError:\n"
    "        return None\n"
    "print(json.dumps({name: v(name) for name in sys.argv[1:]}))\n"
)


@nox.session
@nox.parametrize(("python", "pins", "selected"), list(_combinations()))
def tests(session: nox.Session, pins: dict, selected: str | None) -> None:
    """Run the pytest suite on one combination of Python, SQLAlchemy, Alembic and the Flask extensions."""
    requirements = [f"{name}{spec}" for name, spec in pins.items()]
    # One resolution for the project, its test dependencies and the pins together: the pins win or
    # the install fails, and nothing is installed twice. Bytecode is compiled at install time because
    # every test starts Python subprocesses, which would otherwise recompile the libraries each time
    # (PYTHONDONTWRITEBYTECODE, which CI machines often set); compiling on first import instead would
    # also compile them under the tests' warnings-as-errors, and a library's invalid escape sequence
    # (the MariaDB connector's, a SyntaxWarning from Python 3.12) would then fail its import.
    session.install(
        "-e", ".[test]", *requirements, *_native_mysql_drivers(), env={"UV_COMPILE_BYTECODE": "1"}
    )
    _check_installed(session, pins)
    selection = [] if selected is None else ["-m", selected]
    # worksteal: a worker that is done takes tests from a busy one (a few take 10 s or more).
    session.run("pytest", "-n", "auto", "--dist", "worksteal", *selection, *session.posargs)


def _native_mysql_drivers() -> list[str]:
    """mysqlclient and the MariaDB connector, which build against the MariaDB client library: where
    it is installed (.ci/run installs it), so that the guard is tested with each MySQL driver's
    connect arguments; elsewhere PyMySQL (the test extra) alone."""
    return ["mysqlclient>=2.2", "mariadb>=1.1"] if shutil.which("mariadb_config") else []


def _check_installed(session: nox.Session, pins: dict) -> None:
    """Print the versions installed, ``pip list``-style, and fail if any differs from the pin."""
    output = session.run("python", "-c", _INSTALLED, *PINNED, silent=True, log=False)
    installed = json.loads(output.strip().splitlines()[-1])
    width = max(map(len, PINNED))
    session.log("installed versions:")
    wrong = []
    for name in PINNED:
        found = installed[name]
        spec = pins.get(name, "")
        line = f"  {name:<{width}}  {found or '-':<10}"
        session.log(f"{line} (requested {spec})" if spec else line.rstrip())
        if found is None or (spec and Version(found) not in SpecifierSet(spec)):
            wrong.append(f"{name} {found or 'missing'} (requested {spec or 'any'})")
    if wrong:
        session.error(f"the resolver installed other versions than requested: {', '.join(wrong)}")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff, and the types of the package and of its tests with mypy
    --strict (pyproject.toml)."""
    # mypy reads the libraries' own type hints: those the package imports, and those the tests do.
    session.install(RUFF, MYPY, "-e", ".[tasks,test]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "src/flask_makemigrations", "tests")
