"""Names of shadow databases on a server: unique, and readable back by ``prune``.

A run killed with SIGKILL cannot drop its shadow database. Its name therefore says which machine and
which process made it, and when, so a later ``prune`` can tell a leaked database (its process is gone)
from one still in use, and never mistake any other database for one of ours.

Format: ``fmm_shadow_<host>_<pid>_<YYYYMMDDtHHMMSS>_<6 hex>`` -- lower case ASCII, no quoting needed,
at most 63 bytes (PostgreSQL's identifier limit; MySQL's is 64).
"""

import os
import re
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "fmm_shadow_"
MAX_LENGTH = 63
_TIME_FORMAT = "%Y%m%dt%H%M%S"
_HOST_LENGTH = 17  # leaves room for the prefix, a 10-digit pid, the time and the random part
_PATTERN = re.compile(
    rf"^{PREFIX}(?P<host>[a-z0-9]{{1,{_HOST_LENGTH}}})_(?P<pid>[1-9][0-9]{{0,9}})"
    r"_(?P<time>[0-9]{8}t[0-9]{6})_(?P<nonce>[0-9a-f]{6})$"
)


def host_token(hostname: str | None = None) -> str:
    """The machine's name as it appears in shadow database names (letters and digits only)."""
    cleaned = re.sub(r"[^a-z0-9]", "", (hostname or socket.gethostname()).lower())
    return cleaned[:_HOST_LENGTH] or "unknownhost"


@dataclass(frozen=True)
class ShadowName:
    """The parts of a shadow database's name."""

    host: str
    pid: int
    created: datetime  # UTC, to the second
    nonce: str

    @classmethod
    def new(cls) -> "ShadowName":
        """A name for this process's next shadow database (the nonce keeps two in one second apart)."""
        now = datetime.now(UTC).replace(microsecond=0)
        return cls(host_token(), os.getpid(), now, secrets.token_hex(3))

    @classmethod
    def parse(cls, name: str) -> "ShadowName | None":
        """The parts of ``name`` if it is exactly a shadow database name, else ``None``."""
        match = _PATTERN.match(name)
        if match is None:
            return None
        try:
            created = datetime.strptime(match["time"], _TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return None
        return cls(match["host"], int(match["pid"]), created, match["nonce"])

    def __str__(self) -> str:
        return f"{PREFIX}{self.host}_{self.pid}_{self.created.strftime(_TIME_FORMAT)}_{self.nonce}"


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (one we may not signal counts too)."""
    if os.name != "posix":
        return True  # no cheap, reliable check: never call another machine's or process's database leaked
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_leaked(name: str) -> bool:
    """A shadow database made on this machine by a process that no longer exists."""
    parsed = ShadowName.parse(name)
    return parsed is not None and parsed.host == host_token() and not process_alive(parsed.pid)
