"""What the private test servers share: a free port on 127.0.0.1, and starting on one."""

import socket
from typing import Protocol


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
