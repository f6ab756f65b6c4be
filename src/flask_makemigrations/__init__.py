"""Django-style makemigrations for Flask-Migrate, on a throwaway shadow database.

The engine has no Invoke dependency: ``tasks.py`` (or any other front end) builds a
:class:`Project`, calls one function, prints the :class:`Result` and maps
:class:`MakemigrationsError` to an exit status.
"""

from .api import Result, make_migrations, merge_heads, prune_shadow_databases, verify_history
from .errors import MakemigrationsError, Terminated
from .session import Project

__all__ = [
    "MakemigrationsError",
    "Project",
    "Result",
    "Terminated",
    "make_migrations",
    "merge_heads",
    "prune_shadow_databases",
    "verify_history",
]
