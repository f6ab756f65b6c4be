"""Django-style makemigrations for Flask-Migrate, on a throwaway shadow database.

The engine has no Invoke dependency: a front end (``invoke_tasks``) builds a :class:`Project` (where)
and a :class:`Request` (what: a :class:`Mode` and its options), calls one function, and writes out what
``report`` makes of the :class:`Result` or of the :class:`MakemigrationsError`, exit status included.

The names below are imported on first use, not with the package: a front end first checks that the
installed libraries are usable (``requirements``), and importing the engine would fail before that.
"""

import importlib
from typing import Any

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
    "squash_history": "api",
    "Squashed": "api",
    "verify_history": "api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
