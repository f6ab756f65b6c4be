"""The app's other databases, Flask-SQLAlchemy's binds (``SQLALCHEMY_BINDS``): the variable each one
reads its URL from, and the checks that each reaches a shadow database of its own.

A bind reads its URL from the environment, as the main database does: from the variable
``--bind-env NAME=VAR`` names, else ``<NAME>_DATABASE_URL``. The app reads those variables while it
loads, and only a loaded app says which binds it has; so a run sets the variables of the binds it
was told about, and one that finds others loads the app again, once, with theirs set too
(``session``).
"""

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from ..errors import Advice, AppLoadError, ForeignDatabaseError, MigrationError, UsageError, shown_path
from .guard import reaches

if TYPE_CHECKING:  # annotations only (the session module imports this one)
    from ..revisions.driver import History
    from ..shadow.backend import ShadowDatabase
    from .adapter import ProjectAdapter

#: What an environment variable's name may be, for ``--bind-env``.
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORM = "give NAME=VARIABLE, e.g. audit=AUDIT_DATABASE_URL"
#: Bind keys as Flask-SQLAlchemy keys its engines: None is the main database.
BindKey = str | None


def default_variable(bind: str) -> str:
    """``audit`` -> ``AUDIT_DATABASE_URL``; what is not a letter or digit becomes ``_``."""
    return re.sub(r"\W", "_", bind, flags=re.ASCII).upper() + "_DATABASE_URL"


@dataclass(frozen=True)
class BindVariables:
    """Which environment variable each bind reads its URL from."""

    url_env: str = "DATABASE_URL"  # the main database's
    named: tuple[tuple[str, str], ...] = ()  # (bind, variable) pairs from --bind-env

    @classmethod
    def parse(cls, given: Mapping[str, str], url_env: str = "DATABASE_URL") -> "BindVariables":
        """``--bind-env`` (bind -> variable), each a variable's name."""
        for bind, variable in given.items():
            if not bind or not _VARIABLE.fullmatch(variable):
                raise UsageError(f"--bind-env {bind}={variable}: {_FORM}")
        return cls(url_env, tuple(given.items()))

    def of(self, bind: str) -> str:
        """The variable bind ``bind`` reads: the one named for it, else its default."""
        return dict(self.named).get(bind) or default_variable(bind)

    @property
    def binds(self) -> list[str]:
        """The binds named on the command line (or in configuration), known before the app loads."""
        return [bind for bind, _ in self.named]

    def check_distinct(self, binds: Iterable[str]) -> None:
        """No two databases read one variable (two binds' defaults can meet: ``a-b`` and ``a_b``)."""
        readers = {self.url_env: "the main database"}
        for bind in binds:
            variable = self.of(bind)
            if variable in readers:
                raise UsageError(
                    f"bind {bind!r} and {readers[variable]} would both read ${variable}: name another "
                    f"variable with --bind-env {bind}=VAR"
                )
            readers[variable] = f"bind {bind!r}"

    def check_declared(self, declared: Iterable[str]) -> None:
        """Every bind --bind-env names is one the app declares (a typo would go unnoticed)."""
        unknown = [bind for bind in self.binds if bind not in set(declared)]
        if unknown:
            known = ", ".join(declared) or "none"
            raise UsageError(f"--bind-env {unknown[0]}: the app declares no such bind (its binds: {known})")

    def fix(self, bind: str) -> str:
        """How a message tells the user to make bind ``bind`` use its shadow database."""
        variable = self.of(bind)
        return (
            f"make bind {bind!r} read its URL from ${variable} (or name its variable: --bind-env {bind}=VAR)"
        )


def bind_env_option(given: Iterable[str]) -> dict[str, str]:
    """``--bind-env`` as a command line gives it (``NAME=VAR``, repeated), as a mapping; the names are
    checked with the rest of the project's options (``BindVariables.parse``)."""
    named: dict[str, str] = {}
    for bind, variable in map(_pair, given):
        if bind in named:
            raise UsageError(f"--bind-env: bind {bind!r} is named twice")
        named[bind] = variable
    return named


def _pair(item: str) -> tuple[str, str]:
    bind, separator, variable = item.partition("=")
    if not separator:
        raise UsageError(f"--bind-env {item}: {_FORM}")
    return bind.strip(), variable.strip()


class UnprovisionedBinds(Exception):
    """The app declares binds whose variables were not set before it loaded: load it again with them."""

    def __init__(self, binds: Iterable[str]):
        self.binds = list(binds)
        super().__init__(", ".join(self.binds))


def declared_binds(config: Mapping[str, Any]) -> list[str]:
    """The binds an app's configuration declares, in its order."""
    return [str(bind) for bind in (config.get("SQLALCHEMY_BINDS") or {})]


def missing_urls(config: Mapping[str, Any]) -> list[str]:
    """The declared binds whose URL is empty (``os.environ.get`` of a variable that is not set)."""
    binds = config.get("SQLALCHEMY_BINDS") or {}
    urls = {bind: value.get("url") if isinstance(value, Mapping) else value for bind, value in binds.items()}
    return [str(bind) for bind, url in urls.items() if not url]


def no_url_error(bind: str, variables: BindVariables) -> AppLoadError:
    fix = variables.fix(bind)
    return AppLoadError(f"bind {bind!r} has no URL (SQLALCHEMY_BINDS[{bind!r}] is empty): {fix}")


@contextmanager
def env_matches_binds(binds: list[str], history: "History") -> Iterator[list[Advice]]:
    """Around the runs of env.py: refuse a multi-database env.py (``flask db init --multidb``) in an
    app without binds, as soon as it shows (the one-database revisions it runs fail with a bare
    ``TypeError``, as ``upgrade()`` takes no ``engine_name``); then note that a single-database one
    migrates the main database only, as ``flask db migrate`` does (the binds' shadow databases stay
    empty, and nothing reaches theirs)."""
    notes: list[Advice] = []
    try:
        yield notes
    except MigrationError as exc:
        _check_multidb_has_binds(binds, history, exc)
        raise
    _check_multidb_has_binds(binds, history)
    if binds and history.tokens and not history.multidb:
        notes.append(
            Advice(
                f"env.py migrates the main database only (a single-database env.py, as 'flask db init' "
                f"writes), as under 'flask db migrate': bind(s) {', '.join(binds)} are not migrated"
            )
        )


def _check_multidb_has_binds(binds: list[str], history: "History", cause: Exception | None = None) -> None:
    if history.multidb and not binds:
        env = shown_path(history.staging.project_dir / "env.py")
        raise MigrationError(
            f"{env} is a multi-database one ('flask db init --multidb'), but the app declares no "
            "SQLALCHEMY_BINDS: declare them, or use a single-database env.py"
        ) from cause


def check_databases(adapter: "ProjectAdapter", shadows: Mapping[BindKey, "ShadowDatabase"]) -> None:
    """Every bind of the models is declared, no two databases share a URL, and each database's engine
    reaches its own shadow database."""
    engines = adapter.engines()
    metadatas = adapter.metadatas()
    undeclared = sorted(str(key) for key, meta in metadatas.items() if key not in engines and meta.tables)
    if undeclared:
        bind = undeclared[0]
        tables = ", ".join(sorted(metadatas[bind].tables))
        raise AppLoadError(
            f"the models put table(s) {tables} in bind {bind!r}, which SQLALCHEMY_BINDS does not declare: "
            "add it there, with its URL"
        )
    _check_distinct(engines)
    for key, engine in engines.items():
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        if reaches(shadows[key], engine.dialect, cargs, cparams):
            continue
        url = engine.url.render_as_string(hide_password=True)
        raise ForeignDatabaseError(
            f"{label(key)} uses {url}, not its shadow database: the app changed its configuration after "
            "Flask-SQLAlchemy's init_app read it; configure the database before init_app"
        )


def _check_distinct(engines: Mapping[BindKey, Engine]) -> None:
    """Two binds on one URL would be one database migrated twice (and, here, one shadow for two)."""
    by_url: dict[str, BindKey] = {}
    for bind, engine in engines.items():
        url = engine.url.render_as_string(hide_password=True)
        if url in by_url:
            both = f"{label(by_url[url])} and {label(bind)}"
            raise AppLoadError(f"{both} both use {url}: give each bind a database of its own")
        by_url[url] = bind


def label(bind: BindKey) -> str:
    return f"bind {bind!r}" if bind else "the main database"
