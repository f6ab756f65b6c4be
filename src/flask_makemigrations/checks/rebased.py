"""The proof of a rebase, on the shadow databases, before any file changes.

The shadow databases hold the target's head on entry (the merged history without this branch's
revisions, built from the cache); this branch's revisions, rewritten to follow that head, then go up
the stairs ``verify`` takes every revision up (``whole_history.stair``: up, down to exactly the
schema it started from, up again), and at the new head the models must match the migrated schema
(``whole_history.check_head``, the comparison a new revision's verification makes). A failure is a
``VerificationError`` naming the revision and the step, for ``api/rebase.py`` to offer regeneration.
"""

from dataclasses import dataclass

from ..cache.schemas import kept_table_shapes
from ..revisions.driver import History
from ..revisions.rebasing import Line
from .new_revision import Databases, ModelsDatabases
from .whole_history import check_head, stair


@dataclass(frozen=True)
class RebaseProof:
    """What was proven, for the summary line."""

    revisions: int  # this branch's revisions taken up, down and up again after the target's head
    onto: str  # the target's head they follow
    tables: int  # tables at the new head, in every database


def prove_rebase(
    models: ModelsDatabases, rebased: History, line: Line, use_cache: bool = True
) -> RebaseProof:
    """``rebased`` (the merged history with this branch's revisions rewritten) at the target's head on
    entry: each of this branch's revisions up, down and up again, then the new head against the models."""
    with kept_table_shapes(rebased.staging.project_dir, use_cache) as shapes:
        databases = Databases.of(rebased, shapes=shapes)
        schemas = databases.snapshot()
        for number, moved in enumerate(line.revisions, 1):
            revision = rebased.script.get_revision(moved.revision)
            where = f"revision {number} of {len(line.revisions)} of this branch"
            schemas = stair(rebased, databases, revision, where, schemas)
        check_head(models, rebased, shapes)
    return RebaseProof(len(line.revisions), str(line.onto), sum(len(schema) for schema in schemas.values()))
