"""Warnings that user code causes: shown once each, at the user's line that caused them.

SQLAlchemy attributes its warnings to the first frame outside SQLAlchemy and Alembic, which during a
run is this package's own code driving them: a warning about the models (a foreign-key cycle, say)
would name ``revisions/driver.py``, and again ``checks/new_revision.py`` when the comparison meets the
same models.
While a run lasts, each warning is shown at the innermost frame of the project's own code on the
stack (``env.py``, a migration, the models), or where no such frame is (Alembic rendering the
revision after ``env.py`` returned) at the library's own line, and a warning already shown is not
shown again.
"""

import inspect
import os
import sysconfig
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

_PACKAGE = str(Path(__file__).resolve().parent.parent)  # the whole flask_makemigrations package
# Where code that is not the project's lives: the standard library, installed packages and their
# console scripts (``.venv/bin/invoke``: the outermost frame of every run, inside the project's
# folder when the virtual environment is), for this environment and for ``pip install --user``.
_LIBRARY_PATHS = ("stdlib", "platstdlib", "purelib", "platlib", "scripts")
_SCHEMES = (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user"))
_LIBRARIES = tuple(
    {
        os.path.join(os.path.realpath(sysconfig.get_paths(scheme)[name]), "")
        for scheme in _SCHEMES
        for name in _LIBRARY_PATHS
    }
)


def _is_project_file(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    path = os.path.realpath(filename)
    return not path.startswith(_PACKAGE) and not path.startswith(_LIBRARIES)


def _project_frame() -> FrameType | None:
    """The innermost frame of the project's own code on the current stack, if any."""
    frame = inspect.currentframe()
    while frame is not None:
        if _is_project_file(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return None


class ShownPaths:
    """Folders whose files are shown as those of another: the staging copy's as the project's."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}

    def show_as(self, folder: Path, instead: Path) -> None:
        self.aliases[str(folder.resolve())] = str(instead)

    def __call__(self, filename: str) -> str:
        path = os.path.realpath(filename)
        for folder, instead in self.aliases.items():
            if path.startswith(folder + os.sep):
                return instead + path[len(folder) :]
        return filename


@contextmanager
def attributed_to_the_project() -> Iterator[ShownPaths]:
    """Inside an active ``warnings.catch_warnings()``: show each warning once, at the project's line
    (through the paths the caller registers on the object yielded)."""
    show = warnings.showwarning
    shown: set[tuple[type[Warning], str]] = set()
    paths = ShownPaths()

    def showwarning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if not _is_project_file(filename):
            frame = _project_frame()
            if frame is not None:
                filename, lineno, line = frame.f_code.co_filename, frame.f_lineno, None
        filename = paths(filename)
        key = (category, str(message))
        if key in shown:
            return
        shown.add(key)
        show(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning
    try:
        yield paths
    finally:
        warnings.showwarning = show
