"""The test suite across the supported library versions, and lint.

``nox`` runs every session below; ``nox -s "tests(sa1.4-alembic1.9)"`` runs one combination;
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

# The floor (3.11) runs every combination; the newer Pythons the newest one, where a Python version
# could matter (the libraries' newest releases are the ones that support it first).
PYTHON = "3.11"
NEWER_PYTHONS = ("3.12", "3.13")

# What a session reports, and checks against what it pinned: the four libraries the tool drives,
# plus Flask and Invoke. What a combination does not pin, the resolver picks (the newest).
PINNED = ("sqlalchemy", "alembic", "flask-sqlalchemy", "flask-migrate", "flask", "invoke")

# One ruff and one mypy for everyone: a newer one may add rules or change formatting, or find new
# errors (keep both in step with the dev extra).
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"


SQLALCHEMY_LINES = ("1.4", "2.0", "2.1")
# The oldest Alembic line supported, the newest for SQLAlchemy 1.4, the newest. Middle lines (1.13,
# say) install and pass too, but add time and no coverage: the one Alembic feature the engine detects
# (the quiet option, new in 1.11) is exercised missing by 1.9 and present by the newest.
ALEMBIC_LINES = ("1.9", "1.19", "1.20")


def _installable(sqlalchemy: str, alembic: str) -> bool:
    """Whether the two lines can be installed together at all."""
    # Alembic 1.20 requires SQLAlchemy >= 2.0: the 1.19 line is the newest one for SQLAlchemy 1.4.
    return not (sqlalchemy == "1.4" and Version(alembic) >= Version("1.20"))


def _floor() -> dict:
    """Every lower bound in pyproject.toml as an exact pin: the floor combination proves them all."""
    project = tomllib.loads(Path(__file__).with_name("pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in map(Requirement, project["dependencies"] + project["optional-dependencies"]["tasks"]):
        (lower,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        pins[canonicalize_name(requirement.name)] = f"=={lower}"
    return pins


def _library_combinations():
    """Each SQLAlchemy line with the oldest and the newest Alembic line it can be installed with."""
    for sqlalchemy in SQLALCHEMY_LINES:
        alembics = [alembic for alembic in ALEMBIC_LINES if _installable(sqlalchemy, alembic)]
        for alembic in (alembics[0], alembics[-1]):
            pins = {
                "sqlalchemy": f"=={sqlalchemy}.*",
                "alembic": f"=={alembic}.*",
                # Flask-SQLAlchemy 3.1 requires SQLAlchemy >= 2.0.16; 3.0.5 is the last 3.0 release.
                "flask-sqlalchemy": "==3.0.5" if sqlalchemy == "1.4" else "==3.1.*",
                # Both Flask-Migrate lines: 4.0.7 with the oldest Alembic, 4.1.0 with the newest.
                "flask-migrate": "==4.0.7" if alembic == alembics[0] else "==4.1.0",
            }
            if (sqlalchemy, alembic) == (SQLALCHEMY_LINES[0], ALEMBIC_LINES[0]):
                pins = _floor()  # the oldest lines, at exactly the oldest versions supported
            yield pins, f"sa{sqlalchemy}-alembic{alembic}"


def _combinations():
    """Every library combination on Python 3.11, the newest on each newer Python.

    Tests marked ``version_independent`` (signals, concurrency, the progress line, the benchmark's
    smoke run, ...) exercise only this package's own code: they run in one session, the newest
    combination on 3.11, and are deselected in the others.
    """
    combinations = list(_library_combinations())
    newest = combinations[-1]
    for pins, name in combinations:
        yield nox.param(PYTHON, pins, pins is newest[0], id=name)
    for python in NEWER_PYTHONS:
        yield nox.param(python, newest[0], False, id=f"{newest[1]}-py{python}")


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
@nox.parametrize(("python", "pins", "everything"), list(_combinations()))
def tests(session: nox.Session, pins: dict, everything: bool) -> None:
    """Run the pytest suite on one combination of Python, SQLAlchemy, Alembic and the Flask extensions."""
    requirements = [f"{name}{spec}" for name, spec in pins.items()]
    # One resolution for the project, its test dependencies and the pins together: the pins win or
    # the install fails, and nothing is installed twice. Bytecode is compiled at install time because
    # every test starts Python subprocesses, which would otherwise recompile the libraries each time.
    session.install(
        "-e", ".[test]", *requirements, *_native_mysql_drivers(), env={"UV_COMPILE_BYTECODE": "1"}
    )
    _check_installed(session, pins)
    selection = [] if everything else ["-m", "not version_independent"]
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
