"""``verify``: the whole history on a shadow database, as pytest-alembic's built-in tests check it.

Every revision, in order, must upgrade, downgrade (giving back the schema it started from) and upgrade
again; at head the models must match the migrations (no pending operation, no difference with a
database built from the models); a full downgrade must leave nothing but Alembic's version table. The
first failure is reported with its step and the database's own words. Then the history goes up once
more over rows (``rows/history.py``), where a failure is a note.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from alembic.script import Script

from ..cache.schemas import kept_table_shapes
from ..errors import Advice, shown_path
from ..revisions.driver import History, Progress, reported
from ..revisions.generation import generate
from ..run.binds import BindKey
from .branches import Against
from .locks.history import reported as lock_report
from .locks.report import LockReport
from .new_revision import (
    MIGRATIONS,
    MODELS,
    Databases,
    ModelsDatabases,
    RoundTrip,
    Schemas,
    failed,
    models_schemas,
    round_trip,
    schema_differences,
    step,
)
from .rows.history import Created, upgrade_over_rows
from .schema import TableShapes


@dataclass
class Verified:
    """What ``verify`` checked, for its one-line summary."""

    revisions: int
    notes: list[Advice] = field(default_factory=list)  # what to know beside the result (tables the app made)
    against: Against | None = None  # with --against: the history merged with the ref's
    locks: list[LockReport] | None = None  # with --locks: what each revision locked as it first went up


def check_history(
    models: ModelsDatabases,
    history: History,
    made_while_loading: Mapping[BindKey, list[str]],
    progress: Progress | None = None,
    locks: bool = False,
) -> Verified:
    """The stairway, the head, and base (where only the tables the app itself made while loading,
    ``made_while_loading``, which no downgrade takes away, may be left); with ``locks``, what each
    revision locks, measured as it first goes up (PostgreSQL)."""
    history.single_head()
    revisions = list(reversed(list(history.script.walk_revisions("base", "heads"))))
    with kept_table_shapes(history.staging.project_dir) as shapes:
        databases = Databases.of(
            history, shapes=shapes
        )  # the stairway checks every table but the version table
        before, created = databases.snapshot(), Created()
        measured: list[LockReport] = []
        for number, revision in enumerate(reported(revisions, progress), 1):
            report = lock_report(history, revision) if locks else None
            where = f"revision {number} of {len(revisions)}"
            after = stair(history, databases, revision, where, before, report)
            measured += [report] if report is not None else []
            before = created.record(revision.revision, before, after)
        check_head(models, history, shapes)
    with step("the full downgrade to base", hint=""):
        history.downgrade("base")
    left = []
    for bind, schema in databases.snapshot().items():
        own = set(made_while_loading.get(bind, []))  # the app made them, not the history
        left += databases.prefixed(bind, sorted(set(schema) - own))
    if left:
        raise failed("base", f"tables left behind after the full downgrade: {', '.join(left)}", hint="")
    notes = [Advice(note) for note in upgrade_over_rows(databases, created)]
    return Verified(len(revisions), notes, locks=measured if locks else None)


def stair(
    history: History,
    databases: Databases,
    revision: Script,
    where: str,
    before: Schemas,
    locks: LockReport | None = None,
) -> Schemas:
    """Upgrade (measured into ``locks``, if given), downgrade, upgrade again; return the schemas at
    this revision (the next one's start). ``rebase``'s proof takes this branch's revisions up these
    stairs too (``rebased.py``)."""
    target, shown = _down_target(revision)
    culprit = f"revision {revision.revision} ({shown_path(history.staging.project_path(revision.path))})"
    trip = RoundTrip(revision.revision, target, shown, culprit, f"({where})", locks=locks)
    return round_trip(history, databases, trip, before, hint="")


def _down_target(revision: Script) -> tuple[str, str]:
    """Where one step down goes: the target for Alembic, and how to name it in a message.

    Alembic takes back every descendant of a target revision: ``<revision>@-1`` takes back this one
    only, even while a sibling branch is applied (its parent as target would take that branch too);
    a merge point is the only descendant of each of its parents, so one parent is target enough.
    """
    down = revision.down_revision
    if down is None:
        return "base", "base"
    if isinstance(down, str):
        return f"{revision.revision}@-1", down
    return down[0], " + ".join(down)


def check_head(models_databases: ModelsDatabases, history: History, shapes: TableShapes) -> None:
    """At head, autogenerate finds nothing and each database's schema is the one its models build
    (``rebase``'s proof ends with it too)."""
    pending = generate(history, "pending changes")
    if pending.operations:
        raise failed(
            "head",
            f"the models have changes no revision covers ({', '.join(pending.operations)}): "
            "run makemigrations",
            hint="",
        )
    databases = Databases.of(history, pending, shapes)
    with models_schemas(databases, list(databases.configured), models_databases) as models:
        migrated = databases.snapshot()
        found = schema_differences(databases, models(), migrated, MODELS, MIGRATIONS)
    if found:
        raise failed(
            "head",
            "the migrated schema differs from the models in what autogenerate does not see: "
            + "; ".join(found),
            hint="",
        )
