"""Django-style makemigrations for Flask-Migrate, on a throwaway shadow database.

The engine has no Invoke dependency: a front end (``invoke_tasks``) builds a :class:`Project` (where)
and a :class:`Request` (what: a :class:`Mode` and its options), calls one function, and writes out what
``report`` makes of the :class:`Result` or of the :class:`MakemigrationsError`, exit status included.

The names below are imported on first use, not with the package: a front end first checks that the
installed libraries are usable (``requirements``), and importing the engine would fail before that.
A type checker reads them from the imports under ``TYPE_CHECKING``, which never run, so that a user's
checker sees their real types (the package is typed: ``py.typed``).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        Rebased,
        Result,
        Squashed,
        make_migrations,
        merge_heads,
        prune_shadow_databases,
        rebase_onto,
        revision_locks,
        squash_history,
        verify_history,
    )
    from .checks.whole_history import Verified
    from .errors import MakemigrationsError, Terminated
    from .request import Mode, Request
    from .run.session import Project, Runtime

_EXPORTS = {
    "MakemigrationsError": "errors",
    "Terminated": "errors",
    "Mode": "request",
    "Project": "run.session",
    "Request": "request",
    "Runtime": "run.session",
    "Result": "api",
    "make_migrations": "api",
    "merge_heads": "api",
    "prune_shadow_databases": "api",
    "rebase_onto": "api",
    "Rebased": "api",
    "revision_locks": "api",
    "squash_history": "api",
    "Squashed": "api",
    "Verified": "checks.whole_history",
    "verify_history": "api",
}

# Spelled out, not computed from _EXPORTS: a type checker reads only a literal list.
__all__ = [
    "MakemigrationsError",
    "Mode",
    "Project",
    "Rebased",
    "Request",
    "Result",
    "Runtime",
    "Squashed",
    "Terminated",
    "Verified",
    "make_migrations",
    "merge_heads",
    "prune_shadow_databases",
    "rebase_onto",
    "revision_locks",
    "squash_history",
    "verify_history",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
