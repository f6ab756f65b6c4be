"""The installed libraries, checked against the versions this package supports before any is imported.

``pip install --no-deps`` (or a stale environment) can leave an SQLAlchemy, Alembic or Flask extension
older than the floor; importing the engine then fails somewhere deep with an ``ImportError`` that says
nothing about versions. The floors are read from this package's own metadata (``pyproject.toml``'s
dependencies), so they are written in one place. Standard library only, for the same reason.
"""

import re
from importlib import metadata

from ..errors import UnsupportedLibraryError

DISTRIBUTION = "flask-makemigrations"
# "name>=1.2.3", the only form the project's dependencies take (markers and extras are not checked).
_FLOOR = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)\s*>=\s*(?P<version>[0-9][0-9.]*)\s*$")


def release(version: str) -> tuple[int, ...]:
    """The numeric release of a version: ``'2.0.36'`` -> ``(2, 0, 36)``, ``'1.4.0b1'`` -> ``(1, 4, 0)``."""
    numbers = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
        if digits.group() != part:
            break
    return tuple(numbers)


def floors() -> dict[str, str]:
    """``{distribution: lowest supported version}`` for every required library, as installed."""
    try:
        required = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return {}
    found = {}
    for requirement in required:
        match = _FLOOR.match(requirement)
        if match:  # extras (``; extra == ...``) do not match: only the base dependencies count
            found[match["name"]] = match["version"]
    return found


def problems() -> dict[str, str]:
    """``{requirement: what is installed}`` for every required library missing or below its floor."""
    found = {}
    for name, lowest in floors().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[f"{name}>={lowest}"] = f"{name} is not installed"
            continue
        if release(installed) < release(lowest):
            found[f"{name}>={lowest}"] = f"{name} {installed} is installed"
    return found


def check_installed() -> None:
    """Refuse to go on, in one line, when a library would make the engine fail to import."""
    found = problems()
    if found:
        needed = " ".join(f"'{requirement}'" for requirement in found)
        raise UnsupportedLibraryError(
            f"{'; '.join(found.values())}, but {DISTRIBUTION} needs {', '.join(found)}: pip install {needed}"
        )
