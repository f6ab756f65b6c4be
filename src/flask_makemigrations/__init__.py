"""Django-style makemigrations for Flask-Migrate, on a throwaway shadow database.

The engine has no Invoke dependency: ``tasks.py`` (or any other front end) builds a
:class:`Project`, calls one function, prints the :class:`Result` and maps
:class:`MakemigrationsError` to an exit status.

The names below are imported on first use, not with the package: a front end first checks that the
installed libraries are usable (``requirements``), and importing the engine would fail before that.
"""

import importlib

_EXPORTS = {
    "MakemigrationsError": "errors",
    "Terminated": "errors",
    "Project": "session",
    "Result": "api",
    "make_migrations": "api",
    "merge_heads": "api",
    "prune_shadow_databases": "api",
    "verify_history": "api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
