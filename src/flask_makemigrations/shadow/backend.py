"""What every kind of shadow database provides: the interface each backend in ``backends/``
implements, and the database one of them made for a run.

A backend is what ``--database`` asked for, parsed once (``backends.parse_database``): it makes and
always removes the throwaway database, renders the URL an app receives, and makes what the cache
keeps of it where it can (SQLite's backups). What a kind of database is, for connections of any
dialect (which database a driver's connect arguments reach, how its reflection spells things, its
tables' fingerprints), is in ``dialects/``, by dialect name. Adding a backend means one module in
``backends/`` and one entry in its list (and a dialect's class, for a new dialect); one whose
databases the cache keeps snapshots of adds their store in ``cache/``.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import MetaData
from sqlalchemy.engine import URL

from ..errors import Advice

if TYPE_CHECKING:  # annotations only: server.py builds on this module
    from .server import Deferred


@dataclass
class ShadowDatabase:
    """A database that exists only for one run, made by ``backend``."""

    url: URL
    workdir: Path  # the run's private temporary folder
    backend: "Backend"
    #: What the user should know about where it is (shadow databases killed runs left on a server).
    advice: list[Advice] = field(default_factory=list)
    #: A server's, made when first needed (``server.Deferred``); None: made with the run.
    deferred: "Deferred | None" = None

    @property
    def made(self) -> bool:
        """Whether it may exist yet: one not made yet holds nothing, and nothing has reached it."""
        return self.deferred is None or self.deferred.may_exist

    def make(self) -> None:
        """Make it now, empty, if it is not made yet: before anything reaches it."""
        if self.deferred is not None:
            self.deferred.make()

    @property
    def url_string(self) -> str:
        """The URL as an app must receive it (with its password, unlike ``str(url)``)."""
        return self.backend.app_url(self.url)


class Backend(ABC):
    """One kind of shadow database: an instance is one ``--database`` request. What the kind of
    database is, for connections of any dialect, is the dialect's (``dialects/``)."""

    #: SQLAlchemy's backend name (``URL.get_backend_name()``, ``Dialect.name``).
    name: ClassVar[str] = ""
    #: Whether verification builds the models' database in a thread while it migrates and reflects the
    #: shadow database: a server's work is mostly waiting for its answers, which a thread overlaps;
    #: SQLite's is this process's own, which a thread would only share.
    builds_alongside: ClassVar[bool] = False

    @abstractmethod
    def throwaway(self, workdir: Path, first: bool) -> AbstractContextManager[ShadowDatabase]:
        """Make the database, yield it, and remove it whatever ends the block. ``first`` is False for a
        run's further databases, which need not report what killed runs left behind."""

    def second(self) -> "Backend":
        """Where a second throwaway database goes (verification builds one from the models): beside
        this one, never at a user's path."""
        return self

    def for_binds(self, binds: Sequence[str]) -> "dict[str, Backend]":
        """Where each bind's shadow database goes: by default, one more like this one (each throwaway
        database has a name, or a folder, of its own)."""
        return {bind: self for bind in binds}

    def app_url(self, url: URL) -> str:
        return url.render_as_string(hide_password=False)

    def check_isolated(self, metadata: MetaData) -> None:  # noqa: B027 (most have nothing to refuse)
        """Refuse models that this kind of database could only build outside the shadow database."""

    def prepare_connection(self, dbapi_connection: Any) -> None:  # noqa: B027 (most need nothing)
        """Called on every new DBAPI connection to the shadow database (SQLite's speed pragmas)."""

    @abstractmethod
    def empty(self, shadow: ShadowDatabase) -> None:
        """Make ``shadow`` as empty as it was made (squash builds a second history in it); the app's
        connections to it must be closed first."""
