"""The app's configured database URLs, redirected to the run's throwaway databases.

Apps fill ``SQLALCHEMY_DATABASE_URI`` and ``SQLALCHEMY_BINDS`` however they like: from a variable of
any name, from parts joined together (``DB_HOST``, ``DB_PORT``, ...), from a config module, or a path
written in the code. Flask-SQLAlchemy's ``init_app`` is where every app hands that configuration over
(``SQLAlchemy(app)`` calls it too), in every supported line: 3.x makes its engines there, 2.x keeps
the configuration and makes them on first use. So the run wraps it and puts its own databases' URLs
in the configuration just before Flask-SQLAlchemy reads it: the configured URL is never connected to,
and a SQLite path there is never created, nor its folder (3.x makes the instance folder for a
relative one). A bind gets its throwaway database when the app declares it.

What the app's configuration held is kept, to tell the user when it names another kind of database
than the shadow database's (its engine options, meant for that kind, are left out then).
"""

import functools
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..errors import Advice
from .binds import BindKey, label

#: Flask-SQLAlchemy's configuration keys (2.x and 3.x spell them alike).
URI = "SQLALCHEMY_DATABASE_URI"
BINDS = "SQLALCHEMY_BINDS"
ENGINE_OPTIONS = "SQLALCHEMY_ENGINE_OPTIONS"
#: Backend names that are one kind of database (the MySQL shadow databases serve MariaDB URLs too).
_SAME_KIND = {"mariadb": "mysql"}


@dataclass
class Redirected:
    """What the app's configuration named, per database, before the run put its own URLs there."""

    shadow_kind: str  # the shadow databases' backend name
    configured: dict[BindKey, str] = field(default_factory=dict)  # backend name of each configured URL

    def other_kinds(self) -> dict[BindKey, str]:
        """The databases configured for another kind of database than the shadow databases'."""
        return {key: kind for key, kind in self.configured.items() if kind != self.shadow_kind}

    @property
    def notes(self) -> list[Advice]:
        """One line when the configuration names another kind of database than the shadow's."""
        others = self.other_kinds()
        if not others:
            return []
        named = "; ".join(f"{label(key)}: {kind}" for key, kind in others.items())
        advice = (
            " (models with types only that server has need --database with a URL of it)"
            if self.shadow_kind == "sqlite"
            else ""
        )
        return [
            Advice(
                f"the app is configured for another kind of database ({named}) than the shadow "
                f"database ({self.shadow_kind}): autogenerate compares as {self.shadow_kind} does{advice}; "
                "the app's engine options were left out"
            )
        ]


@contextmanager
def configured_urls_redirected(url_for: Callable[[BindKey], str], shadow_kind: str) -> Iterator[Redirected]:
    """While the block runs, every ``SQLAlchemy.init_app(app)`` first points the app's configuration
    at ``url_for(bind)`` (None: the main database), whatever it held."""
    redirected = Redirected(shadow_kind)
    original = SQLAlchemy.init_app

    @functools.wraps(original)
    def init_app(self: SQLAlchemy, app: Flask, *args: Any, **kwargs: Any) -> None:
        redirect_config(app.config, url_for, redirected)
        original(self, app, *args, **kwargs)

    SQLAlchemy.init_app = init_app  # type: ignore[method-assign]
    try:
        yield redirected
    finally:
        SQLAlchemy.init_app = original  # type: ignore[method-assign]


def redirect_config(
    config: MutableMapping[str, Any], url_for: Callable[[BindKey], str], redirected: Redirected
) -> None:
    """Put the run's URLs in ``config``: the main database's where the app configured one (or no bind
    at all, as Flask-SQLAlchemy then needs one), and each declared bind's. The app's own mappings are
    replaced, never changed in place (a config class's attributes are shared)."""
    binds: Mapping[Any, Any] = config.get(BINDS) or {}
    first_with = _first_with_each_url(config.get(URI), binds)
    if config.get(URI) or not binds:
        _configured(redirected, None, config.get(URI))
        config[URI] = url_for(None)
    if binds:

        def same_database(bind: BindKey) -> str:
            """Binds configured on one URL stay on one database (which ``check_databases`` refuses)."""
            return url_for(first_with.get(bind, bind))

        config[BINDS] = {
            bind: _bind_redirected(bind, value, same_database, redirected) for bind, value in binds.items()
        }
    if redirected.other_kinds():
        config[ENGINE_OPTIONS] = {}


def _first_with_each_url(main: Any, binds: Mapping[Any, Any]) -> dict[BindKey, BindKey]:
    """For each bind configured on a URL that the main database or an earlier bind has too, that one."""
    first: dict[str, BindKey] = {str(main): None} if main else {}
    found: dict[BindKey, BindKey] = {}
    for bind, value in binds.items():
        url = str(value.get("url") if isinstance(value, Mapping) else value)
        if url in first:
            found[str(bind)] = first[url]
        first.setdefault(url, str(bind))
    return found


def _bind_redirected(bind: Any, value: Any, url_for: Callable[[BindKey], str], redirected: Redirected) -> Any:
    """A bind's entry with the run's URL: a URL, or (Flask-SQLAlchemy 3.x) a mapping of engine options
    with one under ``url``, whose other options are kept unless they are meant for another kind."""
    key = str(bind)
    if isinstance(value, Mapping):
        _configured(redirected, key, value.get("url"))
        options = {} if key in redirected.other_kinds() else dict(value)
        return {**options, "url": url_for(key)}
    _configured(redirected, key, value)
    return url_for(key)


def _configured(redirected: Redirected, key: BindKey, url: Any) -> None:
    """Note the kind of database a configured URL names (nothing for one that is not a URL)."""
    try:
        kind = make_url(url).get_backend_name() if url else None
    except ArgumentError:
        kind = None
    if kind is not None:
        redirected.configured[key] = _SAME_KIND.get(kind, kind)
