"""The tool's entry points, a module per task: each one a run (``run/run.py``) told as a few named
steps, and one result. ``steps.py`` holds the steps more than one task takes."""

from .cache import CacheState, cache_state, clear_snapshots
from .makemigrations import Result, make_migrations
from .merge import merge_heads
from .prune import prune_shadow_databases
from .rebase import Rebased, Regenerated, rebase_onto
from .squash import Squashed, squash_history
from .verify import revision_locks, verify_history

__all__ = [
    "CacheState",
    "Rebased",
    "Regenerated",
    "Result",
    "Squashed",
    "cache_state",
    "clear_snapshots",
    "make_migrations",
    "merge_heads",
    "prune_shadow_databases",
    "rebase_onto",
    "revision_locks",
    "squash_history",
    "verify_history",
]
