"""The revision files' headers (``revision``, ``down_revision``, ``branch_labels``, ``depends_on`` and
the docstring), kept by content so that a run can build the history's graph without importing every
file.

Alembic imports each revision file to read those five names: on a history of a thousand revisions
that is most of a run that restores its shadow database from the cache, and applies none of them. A
header is reused only for a file whose import can do nothing but set it: line by line, a docstring,
imports of the standard library, Alembic and SQLAlchemy, assignments of literal values and plain
functions (``plain_module``). Anything else (a decorator, a computed value, a class, an import of the
project's own modules, whose import could add models) makes the file one that is imported on every
run. A reused header's module is imported the first time anything asks it for more (applying the
revision, for instance), so what runs is always the file's own code.
"""

import contextlib
import functools
import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import alembic
import sqlalchemy

from .files import keep_salted_entries, project_file, salted_entries

#: Changes when what is stored changes shape.
FORMAT = 2
#: The file's salt (each key has its own: ``_SALT``).
_FILE = f"headers|{FORMAT}"
#: In every key: whether a file imports and what its names are can change with Python and the
#: libraries it imports (one cache folder serves every virtual environment of the user).
_SALT = f"{sys.version}|{alembic.__version__}|{sqlalchemy.__version__}|".encode()
#: What a file may import and still be read from its header: modules that cannot add models.
SAFE_IMPORTS = frozenset(sys.stdlib_module_names) | {"alembic", "sqlalchemy"}

Names = str | tuple[str, ...] | None
#: The names besides ``revision`` that place a revision in the graph.
_GRAPH_NAMES = ("down_revision", "branch_labels", "depends_on")

# The lines plain_module accepts outside functions, as one expression (the whole file in one match).
_COMMENT = r"(?:[ \t]*\#[^\n]*)?"
_MODULE = r"\w+(?:\.\w+)*"  # which modules: _IMPORTED, checked against SAFE_IMPORTS
_NAME = r"\w+(?:[ \t]+as[ \t]+\w+)?"  # imported, maybe as another
_LITERAL = r"""(?:'[^'\\\n]*'|"[^"\\\n]*"|None|True|False|-?\d+(?:\.\d*)?)"""
_LITERALS = rf"(?:{_LITERAL}|[(\[][ \t]*(?:{_LITERAL}[ \t]*(?:,[ \t]*{_LITERAL}[ \t]*)*,?)?[ \t]*[)\]])"
_LINE = rf"""(?:
    [ \t][^\n]*                                                       # in a function's body
  | \#[^\n]*                                                         # a comment
  | from[ \t]+{_MODULE}[ \t]+import[ \t]+{_NAME}(?:[ \t]*,[ \t]*{_NAME})*{_COMMENT}
  | import[ \t]+{_MODULE}(?:[ \t]+as[ \t]+\w+)?{_COMMENT}
  | \w+[ \t]*(?::[ \t]*[\w\[\], .|]+)?=[ \t]*{_LITERALS}{_COMMENT}           # annotated or not
  | def[ \t]+\w+\([ \t]*(?:\w+(?:[ \t]*:[ \t]*\w+)?[ \t]*)?\)[ \t]*(?:->[ \t]*None[ \t]*)?:{_COMMENT}
  |                                                                   # blank
)"""
_PLAIN_BODY = rf"(?:{_LINE}\n)*{_LINE}"  # compiled when first needed (a run that learns headers)
_IMPORTED = re.compile(r"^(?:from|import)[ \t]+(\w+)", re.MULTILINE)  # at the top level
# The module's docstring: up to the first closing delimiter, then nothing but a comment on its line.
_DOCSTRING = re.compile(
    r'\A(?:[ \t]*(?:\#[^\n]*)?\n)*[ \t]*[rRuU]?("""|\'\'\')(?:(?!\1)[\s\S])*\1' + _COMMENT + r"\n"
)


@dataclass(frozen=True)
class Header:
    """What Alembic reads from a revision file to place it in the graph."""

    revision: str
    down_revision: Names
    branch_labels: Names
    depends_on: Names
    doc: str | None
    #: Every name the module defines: what it lacks, asked for (``hasattr``), needs no import to deny.
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, module: ModuleType) -> "Header | None":
        """The module's header, or None if a value is not what a header can hold."""
        down, labels, depends = (getattr(module, name, None) for name in _GRAPH_NAMES)
        if not isinstance(getattr(module, "revision", None), str) or not all(
            map(_holds_names, (down, labels, depends))
        ):
            return None
        if module.__doc__ is not None and not isinstance(module.__doc__, str):
            return None
        names = tuple(sorted(vars(module)))
        return cls(module.revision, _names(down), _names(labels), _names(depends), module.__doc__, names)

    @classmethod
    def decoded(cls, stored: dict[str, Any]) -> "Header":
        graph = {name: _names(stored[name]) for name in _GRAPH_NAMES}
        return cls(**{**stored, **graph, "names": tuple(stored["names"])})

    def module(self, name: str, path: Path, load: Callable[[], ModuleType]) -> ModuleType:
        return _HeaderModule(name, path, self, load)


def _holds_names(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(isinstance(item, str) for item in value)
    return value is None or isinstance(value, str)


def _names(value: Any) -> Names:
    return tuple(value) if isinstance(value, list) else value


class _HeaderModule(ModuleType):
    """A revision file's module as its header describes it, until anything asks for more: then the
    file is imported and its module's names take the header's place."""

    def __init__(self, name: str, path: Path, header: Header, load: Callable[[], ModuleType]):
        super().__init__(name, header.doc)
        self.__file__ = str(path)
        self.revision = header.revision
        self.down_revision = header.down_revision
        self.branch_labels = header.branch_labels
        self.depends_on = header.depends_on
        self._defined = header.names
        self._import_file = load

    def __getattr__(self, name: str) -> Any:  # only for what the module does not hold yet
        load = self.__dict__.get("_import_file")
        if load is None or name not in self._defined:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        imported = load()  # a failure leaves it to be tried again
        del self.__dict__["_import_file"], self.__dict__["_defined"]
        self.__dict__.update(vars(imported))
        return getattr(self, name)


def plain_module(source: bytes) -> bool:
    """Whether importing this file can do nothing but define its names, from its text alone.

    Every line outside the docstring is blank, a comment, inside a function (indented), an import of
    ``SAFE_IMPORTS``, a one-line assignment of a literal (strings without escapes, numbers, ``None``,
    ``True``, ``False``, a tuple or list of those), or a function with no decorator and no default
    values. Whatever this cannot tell (a statement over several lines, say) is not plain.
    """
    try:
        text = source.decode("utf-8").replace("\r\n", "\n")  # a checkout with Windows line ends
    except UnicodeDecodeError:
        return False
    docstring = _DOCSTRING.match(text)
    start = docstring.end() if docstring else 0
    if not _compiled(_PLAIN_BODY).fullmatch(text, start):
        return False
    return all(module in SAFE_IMPORTS for module in _IMPORTED.findall(text, start))


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.VERBOSE)


class RevisionHeaders:
    """One project's known headers, by the digest of each file's bytes; loads revision files for
    Alembic (``compat.revision_files_loaded_by``) and keeps what it learnt for the next run."""

    def __init__(self, path: Path):
        self.path = path
        self.known = self._read()
        self.used: dict[str, Header] = {}

    @classmethod
    def of_project(cls, migrations_dir: Path) -> "RevisionHeaders":
        return cls(project_file(migrations_dir, "headers.json"))

    def _read(self) -> dict[str, Header]:
        with contextlib.suppress(Exception):  # any doubt about the file: import every revision
            return {
                digest: Header.decoded(header) for digest, header in salted_entries(self.path, _FILE).items()
            }
        return {}

    def load(self, path: Path, import_file: Callable[[], ModuleType]) -> ModuleType:
        """The file's module: from its header when its bytes are known, else imported (and its
        header learnt, if the file is plain)."""
        if path.suffix != ".py":  # a compiled file (Alembic's sourceless mode): no source to key
            return import_file()
        source = path.read_bytes()
        digest = hashlib.sha256(_SALT + source).hexdigest()
        known = self.known.get(digest)
        if known is not None:
            self.used[digest] = known
            return known.module(_module_name(path), path, import_file)
        module = import_file()
        learnt = Header.of(module) if plain_module(source) else None
        if learnt is not None:
            self.used[digest] = learnt
        return module

    def save(self) -> None:
        """Keep the headers of the files this run loaded (the project's history as it now is)."""
        if self.used != self.known:
            keep_salted_entries(self.path, _FILE, {digest: asdict(h) for digest, h in self.used.items()})


def _module_name(path: Path) -> str:
    """The name Alembic gives a revision file's module (``util.load_python_file``)."""
    return re.sub(r"\W", "_", path.name)
