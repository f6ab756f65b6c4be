"""Where the caches live, and how their files are written: the user's cache folder, each project's
name in it, and files that readers see whole or not at all.

Every cache of the tool (the shadow databases' snapshots, the revision files' headers, the tables'
shapes and reflection answers, the models' schemas) is a disposable copy of something it can
compute again, so a file that cannot be written only costs the next run time, and one that is not
exactly what was written is not read.
"""

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any


def user_cache_dir() -> Path:
    """The platform's per-user cache folder (what platformdirs computes, without the dependency)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        # The XDG specification: a relative path is invalid and is ignored (it would put the cache
        # wherever the run happens to start, often inside the project).
        configured = os.environ.get("XDG_CACHE_HOME", "")
        base = configured if os.path.isabs(configured) else Path.home() / ".cache"
    return Path(base) / "flask-makemigrations"


def project_id(migrations_dir: Path) -> str:
    """What names a project's cache entries (its folder of files, its templates): its migrations' path."""
    return hashlib.sha256(str(migrations_dir.resolve()).encode()).hexdigest()[:16]


def project_file(migrations_dir: Path, name: str) -> Path:
    """A file of the project's own in the cache folder (beside its snapshots)."""
    return user_cache_dir() / project_id(migrations_dir) / name


def write_whole(path: Path, text: str) -> None:
    """Written aside, then renamed: a reader never sees half a file (a cache's, a squash's journal)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def salted_entries(path: Path, salt: str) -> dict[str, Any]:
    """The entries a cache file holds, if it was written under ``salt`` (what its entries depend on
    beyond their keys: the format, the libraries' versions) and is byte for byte what was written
    (``_sealed``); on any doubt none, to be computed again. A file of another shape (edited by hand,
    cut short, written by something else) is a miss, never an error nor an answer."""
    with contextlib.suppress(Exception):
        text = path.read_text()
        body = text.partition(_ENTRIES)[2][:-1]
        if text == _sealed(salt, body):
            entries = json.loads(body)
            if isinstance(entries, dict):
                return entries
    return {}


def keep_salted_entries(path: Path, salt: str, entries: dict[str, Any]) -> None:
    """Keep ``entries`` under ``salt`` for the next run (one that cannot be written is computed again)."""
    with contextlib.suppress(OSError):
        write_whole(path, _sealed(salt, json.dumps(entries)))


#: What comes before the entries' JSON in a cache file, which ends with it.
_ENTRIES = ', "entries": '


def _sealed(salt: str, body: str) -> str:
    """A cache file's whole text: a JSON object of the salt, the seal (a digest of the salt and of
    the entries' JSON text, so that checking it costs a hash, not a second encoding), the entries."""
    seal = hashlib.sha256(f"{salt}\n{body}".encode()).hexdigest()
    return json.dumps({"salt": salt, "seal": seal})[:-1] + _ENTRIES + body + "}"
