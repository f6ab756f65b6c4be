"""The test suite across the supported library versions, and lint.

``nox`` runs every session below; ``nox -s "tests(sa1.4-alembic1.9)"`` runs one combination;
``nox -l`` lists them. Arguments after ``--`` go to pytest (``nox -s tests -- -k merge -x``).
"""

import json

import nox
from packaging.specifiers import SpecifierSet
from packaging.version import Version

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint"]

PYTHON = "3.11"

# What a session pins, and what it must then find installed: the four libraries the tool drives,
# plus Flask and Invoke. A row leaves out what it does not pin; the resolver picks the newest.
PINNED = ("sqlalchemy", "alembic", "flask-sqlalchemy", "flask-migrate", "flask", "invoke")

# PostgreSQL drivers for the shadow-database tests: SQLAlchemy 1.4 and 2.0 map ``postgresql://`` to
# psycopg2, 2.1 to psycopg 3. Both go everywhere, so a test may also name a driver explicitly.
DRIVERS = ("psycopg2-binary", "psycopg[binary]")

# One ruff for everyone: a newer one may add rules or change formatting (keep in step with the dev extra).
RUFF = "ruff==0.17.6"


def _row(sqlalchemy, alembic, flask_sqlalchemy, flask_migrate, **others):
    """One combination: ``nox.param`` of its pins, with an id naming the SQLAlchemy and Alembic lines."""
    pins = {
        "sqlalchemy": sqlalchemy,
        "alembic": alembic,
        "flask-sqlalchemy": flask_sqlalchemy,
        "flask-migrate": flask_migrate,
        **{name.replace("_", "-"): spec for name, spec in others.items()},
    }
    return nox.param(pins, id=f"sa{_line(sqlalchemy)}-alembic{_line(alembic)}")


def _line(spec: str) -> str:
    """The release line a pin names: ``==1.4.46`` and ``==1.4.*`` are both ``1.4``."""
    return ".".join(spec.lstrip("=~").split(".")[:2])


# Every SQLAlchemy line with the oldest and the newest Alembic it supports, and both Flask-Migrate
# lines (4.0.7 with the oldest Alembic, 4.1.0 with the newest). Middle Alembic lines (1.13, say)
# install and pass too, but add time and no coverage: the one Alembic feature the engine detects
# (the quiet option, new in 1.11) is exercised missing by 1.9 and present by the newest.
# Left out because they cannot install:
#   - SQLAlchemy 1.4 with Alembic 1.20 or later: Alembic 1.20 requires SQLAlchemy >= 2.0, so the
#     1.19 line is the newest Alembic for SQLAlchemy 1.4;
#   - SQLAlchemy 1.4 with Flask-SQLAlchemy 3.1: 3.1 requires SQLAlchemy >= 2.0.16, so 1.4 rows use 3.0.5,
#     the last 3.0 release, and 2.x rows use 3.1.
COMBINATIONS = [
    # The floor: exactly the lower bounds in pyproject.toml, so every bound there is proven.
    _row("==1.4.46", "==1.9.0", "==3.0.5", "==4.0.7", flask="==2.3.0", invoke="==2.2.0"),
    _row("==1.4.*", "==1.19.*", "==3.0.5", "==4.1.0"),
    _row("==2.0.*", "==1.9.*", "==3.1.*", "==4.0.7"),
    _row("==2.0.*", "==1.20.*", "==3.1.*", "==4.1.0"),
    _row("==2.1.*", "==1.9.*", "==3.1.*", "==4.0.7"),
    # The newest of everything.
    _row("==2.1.*", "==1.20.*", "==3.1.*", "==4.1.0"),
]


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


@nox.session(python=PYTHON)
@nox.parametrize("pins", COMBINATIONS)
def tests(session: nox.Session, pins: dict) -> None:
    """Run the whole pytest suite on one combination of SQLAlchemy, Alembic and the Flask extensions."""
    requirements = [f"{name}{spec}" for name, spec in pins.items()]
    # One resolution for the project, its test dependencies and the pins together: the pins win or
    # the install fails, and nothing is installed twice. Bytecode is compiled at install time because
    # every test starts Python subprocesses, which would otherwise recompile the libraries each time.
    session.install("-e", ".[test]", *DRIVERS, *requirements, env={"UV_COMPILE_BYTECODE": "1"})
    _check_installed(session, pins)
    session.run("pytest", "-n", "auto", *session.posargs)


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
    """Check style and formatting with ruff (configured in pyproject.toml)."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
