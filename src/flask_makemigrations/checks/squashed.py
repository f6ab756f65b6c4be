"""The proof of a squash, on the shadow databases, before any file changes.

The old history was applied to head first, and its schema kept (``old``). On the same databases,
emptied, the squashed history (the revisions up to ``--since``, then the squashed one) must then
build exactly that schema, by the comparison verification uses; the squashed revision must downgrade
to exactly the schema at ``--since`` and upgrade again; and the models must still match head.
"""

from dataclasses import dataclass

from ..cache.schemas import kept_table_shapes
from ..errors import VerificationError
from ..revisions.driver import History
from ..revisions.generation import Generated
from ..revisions.squashing import SquashRange
from .new_revision import (
    MODELS,
    Databases,
    ModelsDatabases,
    RoundTrip,
    Schemas,
    models_schemas,
    round_trip,
    schema_differences,
)

OLD, SQUASHED = "the old history", "the squashed history"
#: What every failure of the proof adds.
NOTHING_CHANGED = "nothing was changed"


@dataclass(frozen=True)
class Proof:
    """What was proven, for the summary line."""

    tables: int  # tables at head, in every database
    since: str  # where the squashed revision goes down to ("base" for the whole history)


def prove_squash(
    models_databases: ModelsDatabases,
    squashed: History,
    generated: Generated,
    span: SquashRange,
    old: Schemas,
    use_cache: bool = True,
) -> Proof:
    """The squashed history, at ``--since`` on entry, against the old one's schemas at head."""
    since = span.since or "base"
    with kept_table_shapes(squashed.staging.project_dir, use_cache) as shapes:
        databases = Databases.of(squashed, generated, shapes)
        with models_schemas(databases, list(databases.configured), models_databases, use_cache) as models:
            before = databases.snapshot()
            trip = RoundTrip(span.head, since, since, f"the squashed revision {span.head}")
            after = round_trip(squashed, databases, trip, before, hint=NOTHING_CHANGED)
            found = schema_differences(databases, old, after, OLD, SQUASHED)
            found += schema_differences(databases, models(), after, MODELS, SQUASHED)
    if found:
        raise VerificationError(f"the squash is not proven: {'; '.join(found)}; {NOTHING_CHANGED}")
    return Proof(sum(len(schema) for schema in after.values()), since)
