"""What the private test servers share: a folder of their own, a free port on 127.0.0.1, and starting
on one."""

import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

#: The longest path a Unix socket may have on Linux (``sun_path`` holds 108 bytes with its NUL).
SOCKET_PATH_MAX = 107
#: The characters ``mkdtemp`` adds to a prefix.
_RANDOM = "x" * 8


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


class Startable(Protocol):
    port: int

    def start(self) -> bool: ...

    def stop(self) -> None: ...

    def log(self) -> str: ...


def start_on_a_free_port(server: Startable, title: str) -> None:
    """Start ``server``, on another free port if another process took its own meanwhile."""
    for _ in range(3):
        if server.start():
            return
        server.stop()
        server.port = free_port()
    raise RuntimeError(f"the {title} test server did not start: {server.log()[-2000:]}")
