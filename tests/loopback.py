"""What the private test servers share: a folder of their own, a free port on 127.0.0.1, starting on
one and removing them, and what the tests see of either (``LoopbackServer``: URLs, statements, log)."""

import shutil
import socket
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL, Engine

#: The longest path a Unix socket may have on Linux (``sun_path`` holds 108 bytes with its NUL).
SOCKET_PATH_MAX = 107
#: The characters ``mkdtemp`` adds to a prefix.
_RANDOM = "x" * 8

#: Both servers' superuser; its password has characters that need quoting in a URL, so quoting and
#: redaction are exercised for real.
SUPERUSER = "shadow_admin"
PASSWORD = "Tr1cky@pass%word"
#: The database the test apps use on either server.
APP_DATABASE = "appdb"


def server_folder(title: str, prefix: str, socket_name: str, enters: Callable[[Path], bool]) -> Path:
    """A new folder for a test server's files and socket, under ``$TMPDIR`` where the server can use
    it, else under ``/tmp``; a server's socket path has a length limit, and a server run as another
    user needs to enter every folder above its own (a private ``mktemp -d`` ``$TMPDIR`` is root's
    alone). ``enters(folder)``: whether the server's user can enter ``folder``."""
    tried = []
    for parent in dict.fromkeys([Path(tempfile.gettempdir()), Path("/tmp")]):
        socket_path = parent / f"{prefix}{_RANDOM}" / socket_name
        if len(str(socket_path)) <= SOCKET_PATH_MAX and enters(parent):
            return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        tried.append(str(parent))
    raise RuntimeError(
        f"no folder for the {title} test server: its socket path would be longer than {SOCKET_PATH_MAX} "
        f"characters, or its user may not enter the folder, in {' and in '.join(tried)}; set TMPDIR to a "
        "short folder every user may enter"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LoopbackServer(ABC):
    """What a test server on 127.0.0.1 offers the tests, whichever it is: URLs to its databases,
    statements run on them, its log. The server's class says how it is made, started and stopped."""

    root: Path  # its files, its socket and its log
    port: int
    driver: ClassVar[str]  # the drivername of its URLs unless a test asks for another

    def url(
        self,
        database: str = APP_DATABASE,
        user: str = SUPERUSER,
        password: str = PASSWORD,
        drivername: str | None = None,
    ) -> URL:
        return URL.create(
            drivername or self.driver,
            username=user,
            password=password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )

    def url_string(self, **kwargs: str) -> str:
        return self.url(**kwargs).render_as_string(hide_password=False)

    def engine(self, database: str = APP_DATABASE) -> Engine:
        return create_engine(self.url(database), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")

    def sql(self, statement: str, database: str = APP_DATABASE, **params: object) -> list[tuple[Any, ...]]:
        engine = self.engine(database)
        try:
            with engine.connect() as connection:
                result = connection.execute(text(statement), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text() if path.exists() else ""

    @abstractmethod
    def prepare(self) -> None:
        """Make its data folder, before its first start."""

    @abstractmethod
    def start(self) -> bool:
        """Start it on ``port``: whether it listens there."""

    @abstractmethod
    def stop(self) -> None:
        """Stop it, if it runs."""


_Server = TypeVar("_Server", bound=LoopbackServer)


def start_on_a_free_port(server: LoopbackServer, title: str) -> None:
    """Start ``server``, on another free port if another process took its own meanwhile."""
    for _ in range(3):
        if server.start():
            return
        server.stop()
        server.port = free_port()
    raise RuntimeError(f"the {title} test server did not start: {server.log()[-2000:]}")


def start_prepared(server: _Server, title: str, add_accounts: Callable[[_Server], None]) -> _Server:
    """Prepare ``server``'s data, start it on a free port and add the tests' accounts and database;
    whatever fails on the way, nothing of it is left running or on disk."""
    try:
        server.prepare()
        start_on_a_free_port(server, title)
        add_accounts(server)
    except BaseException:
        stop_and_remove(server)
        raise
    return server


def stop_and_remove(server: LoopbackServer) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
