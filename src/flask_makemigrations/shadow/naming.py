"""Names of what a run creates and a SIGKILL would leave behind: server shadow databases and the
private temporary folders. Unique, and readable back by a later run.

A run killed with SIGKILL cannot clean up. Each name therefore says which machine and which process
made it, so a later run can tell a leaked one (its process is gone) from one still in use, and never
mistake anything else for one of ours.

Server databases: ``fmm_shadow_<host>_<pid>_<YYYYMMDDtHHMMSS>_<6 hex>`` -- lower case ASCII, no
quoting needed, at most 63 bytes (PostgreSQL's identifier limit; MySQL's is 64); ``prune`` drops them.
Temporary folders: ``flask-makemigrations-<host>-<pid>-<random>`` in ``$TMPDIR``; every run removes
the leaked ones itself.
"""

import os
import re
import secrets
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PREFIX = "fmm_shadow_"
WORKDIR_PREFIX = "flask-makemigrations-"
MAX_LENGTH = 63
_TIME_FORMAT = "%Y%m%dt%H%M%S"
_HOST_LENGTH = 17  # leaves room for the prefix, a 10-digit pid, the time and the random part
_PATTERN = re.compile(
    rf"^{PREFIX}(?P<host>[a-z0-9]{{1,{_HOST_LENGTH}}})_(?P<pid>[1-9][0-9]{{0,9}})"
    r"_(?P<time>[0-9]{8}t[0-9]{6})_(?P<nonce>[0-9a-f]{6})$"
)
# tempfile.mkdtemp's random part: eight characters of [a-z0-9_].
_WORKDIR_PATTERN = re.compile(
    rf"^{WORKDIR_PREFIX}(?P<host>[a-z0-9]{{1,{_HOST_LENGTH}}})-(?P<pid>[1-9][0-9]{{0,9}})-[a-z0-9_]{{8}}$"
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


def _left_by_a_dead_run(host: str, pid: int) -> bool:
    """Made on this machine by a process that no longer exists: the one rule for all leftovers."""
    return host == host_token() and not process_alive(pid)


def is_leaked(name: str) -> bool:
    """A shadow database made on this machine by a process that no longer exists."""
    parsed = ShadowName.parse(name)
    return parsed is not None and _left_by_a_dead_run(parsed.host, parsed.pid)


def workdir_prefix() -> str:
    """The start of this process's private temporary folder names (``tempfile.mkdtemp`` adds the rest)."""
    return f"{WORKDIR_PREFIX}{host_token()}-{os.getpid()}-"


def remove_leaked_workdirs(root: Path) -> list[Path]:
    """Remove the temporary folders that killed runs on this machine left in ``root``; return them.

    Only folders named exactly as :func:`workdir_prefix` names them, made on this host, whose
    process is gone: never a live run's, another machine's (a shared ``$TMPDIR``), or anything else.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        match = _WORKDIR_PATTERN.match(entry.name)
        if match is None or not _left_by_a_dead_run(match["host"], int(match["pid"])):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed
