"""The content keys of a history's revisions, which name the shadow databases' snapshots at them.

Most runs start from the history the previous run saw. A revision's key hashes its file's bytes with
its parents' and dependencies' keys (so editing, adding or removing any file below it changes it), salted
with ``env.py``, ``script.py.mako``, ``alembic.ini``, what ``Migrate(...)`` gives env.py, the dialect
and the SQLAlchemy/Alembic versions: a snapshot under a revision's key is the database that history
builds, and a key that changed is a miss.
"""

import hashlib
import inspect
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import alembic
import sqlalchemy
from alembic.script import Script, ScriptDirectory


def revision_keys(
    script: ScriptDirectory,
    migrations_dir: Path,
    dialect: str,
    binds: Sequence[str] = (),
    settings: str = "",
) -> dict[str, str]:
    """Map every revision id to its content key (parents before children, so keys can chain);
    ``settings``: what the project gives env.py (``ProjectAdapter.env_settings``), canonical."""
    salt = hashlib.sha256()
    for name in ("env.py", "script.py.mako", "alembic.ini"):
        path = migrations_dir / name
        salt.update(path.read_bytes() if path.is_file() else b"-")
    salt.update(f"{dialect}|{sqlalchemy.__version__}|{alembic.__version__}|{settings}".encode())
    if binds:  # a snapshot set holds a file per database (the salt of an app without binds is as it was)
        salt.update(json.dumps(sorted(binds)).encode())

    keys: dict[str, str] = {}
    for revision in reversed(list(script.walk_revisions())):
        digest = hashlib.sha256(salt.digest())
        digest.update(Path(revision.path).read_bytes())
        for parent in _ancestors_named_by(script, revision):
            digest.update(keys[parent].encode())
        keys[revision.revision] = digest.hexdigest()
    return keys


def canonical(value: object) -> str:
    """``value`` as text that only changes when it does: mappings and sets sorted, functions and
    classes by their qualified name and a digest of their source (a ``configure`` callback whose body
    changed must not restore what the old body built), other objects by their ``repr`` without
    memory addresses."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(map(canonical, value))) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(canonical, value)) + "]"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}:{_source_digest(value)}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", f"{type(value).__qualname__}:{value!r}")


def _source_digest(value: object) -> str:
    """A digest of a function's or class's source, or ``?`` where Python has none (a builtin, code
    made by ``exec``): then its name alone keys it, as it did before."""
    try:
        source = inspect.getsource(value)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return "?"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _ancestors_named_by(script: ScriptDirectory, revision: Script) -> list[str]:
    """Its parents (several for a merge) and its ``depends_on`` revisions, as sorted ids."""
    named = set(_as_tuple(revision.down_revision))
    for dependency in _as_tuple(revision.dependencies):
        named.update(r.revision for r in script.get_revisions(dependency))
    return sorted(named)


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
