"""The new revision taken up and down over made-up rows, once it has passed on empty tables.

Two kinds of failure, told apart. Plain rows (``filling``: what any table in use holds) that make
the upgrade fail make it fail on every production database with rows: an error for a writing run, a
finding for ``--check`` and ``--dry-run`` (``api._verify``); but for a revision that adds a CHECK or a
foreign key to a table with rows, which made-up values may break and production data meet (a
warning, as for chosen rows). Chosen rows (``conditions``: the data the revision depends on) that
make it fail show what production data it would fail on: a warning naming the condition, an error
under ``--strict``. A downgrade that fails over rows is a note: no deploy runs
it, and the downgrade autogenerate writes for a dropped NOT NULL column fails on every table with rows
(a warning would make ``--strict`` refuse every such drop).

A rename (answered to a question, ``revisions/answers.py``) must keep its column's values through the
upgrade and the downgrade (``renames``): a revision that loses them is refused like one that fails.

The shadow databases are at the new revision with empty tables on entry, and again on a normal exit.
After a warning the upgrade or downgrade that failed may have been applied in part (SQLite and MariaDB
run DDL outside transactions): the run uses them for nothing more.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alembic.operations import ops

from ...errors import AppExitError, MigrationError, RevisionFailedError
from ...findings import Finding
from ...revisions.generation import Generated
from ...run.binds import BindKey
from .conditions import conditions, constraints_on_data, meet, required_columns, touched_tables
from .filling import Filled, empty, fill
from .renames import Renamed, read_before

if TYPE_CHECKING:  # annotations only: new_revision imports this module
    from ..new_revision import Databases


@dataclass
class RowsFindings:
    """What the rows showed that is no error: warnings, and notes (the tables left empty, a downgrade
    that fails over rows)."""

    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify_with_rows(
    databases: "Databases",
    generated: Generated,
    previous_head: str | None,
    existing: dict[BindKey, set[str]],
    hint: str,
) -> RowsFindings:
    """Fill the tables the revision touches (of ``existing``: those at ``previous_head``, by bind) at
    the previous head, then up, down (with the rows its conditions meet), up."""
    new, target = generated.revision, previous_head or "base"
    touched = {
        engine.bind: sorted(touched_tables(engine.upgrade_ops) & existing.get(engine.bind, set()))
        for engine in generated.engines
        if engine.bind in databases.engines
    }
    if new is None or not any(touched.values()):
        return RowsFindings()
    history = databases.history
    history.downgrade(target)  # it has just gone down and up on empty tables
    filled = {bind: fill(databases.engines[bind], names) for bind, names in touched.items() if names}
    notes = [line for bind, rows in filled.items() for line in databases.prefixed(bind, rows.notes)]
    found = RowsFindings(notes=notes)
    if not any(rows.with_rows for rows in filled.values()):  # nothing to learn: back where it was
        history.upgrade(new)
        return found
    renamed = _renamed_before(databases, generated, filled)
    failed = _failure(lambda: history.upgrade(new))
    if failed is not None:
        constrained = _constrained(databases, generated, filled)
        if not constrained or _required(databases, generated, filled):
            raise _plain_failure(databases, generated, filled, failed, hint) from failed
        found.warnings.append(_condition_failure(constrained, failed))  # made-up rows broke it
        return found
    _check_kept(databases, renamed, "after the upgrade", hint)
    failed = _failure(lambda: history.downgrade(target))
    if failed is not None:
        words = _words(failed)
        found.notes.append(
            f"the downgrade would fail on a table with rows: {words}; edit it to take it back on data"
        )
        return found
    _check_kept(databases, renamed, "after the downgrade", hint)
    chosen = _chosen(databases, generated, filled)
    failed = _failure(lambda: history.upgrade(new))
    if failed is not None:
        if not chosen:
            raise _plain_failure(databases, generated, filled, failed, hint) from failed
        found.warnings.append(_condition_failure(chosen, failed))
        return found
    for bind, rows in filled.items():
        empty(databases.engines[bind], rows)
    return found


def _failure(step: Callable[[], object]) -> MigrationError | None:
    """The error an upgrade or downgrade over the rows failed with, or None; ``sys.exit()`` in a
    migration stays the error of its own it is."""
    try:
        step()
    except AppExitError:
        raise
    except MigrationError as exc:
        return exc
    return None


def _renamed_before(
    databases: "Databases", generated: Generated, filled: dict[BindKey, Filled]
) -> dict[BindKey, list[Renamed]]:
    """The values of the columns the revision renames, in each database's tables with rows."""
    return {
        engine.bind: read_before(
            databases.engines[engine.bind], engine.upgrade_ops, filled[engine.bind].with_rows
        )
        for engine in generated.engines
        if engine.bind in filled
    }


def _check_kept(databases: "Databases", renamed: dict[BindKey, list[Renamed]], when: str, hint: str) -> None:
    """A renamed column holds the values it held, under its new name after the upgrade and its old one
    after the downgrade: an error otherwise, as for a revision that fails on rows."""
    after_upgrade = when == "after the upgrade"
    for bind, columns in renamed.items():
        for column in columns:
            lost = column.lost(databases.engines[bind], column.new if after_upgrade else column.old, when)
            if lost is not None:
                (shown,) = databases.prefixed(bind, [lost])
                raise RevisionFailedError(f"revision would lose data on a table with rows: {shown}; {hint}")


def _chosen(databases: "Databases", generated: Generated, filled: dict[BindKey, Filled]) -> list[str]:
    """Meet the revision's conditions on the rows; the ones met, as the user reads them."""
    met = []
    for engine in generated.engines:
        if engine.bind not in filled:
            continue
        rows = filled[engine.bind].rows
        met += databases.prefixed(
            engine.bind,
            [str(c) for c in conditions(engine.upgrade_ops) if meet(databases.engines[engine.bind], c, rows)],
        )
    return met


def _required(databases: "Databases", generated: Generated, filled: dict[BindKey, Filled]) -> list[str]:
    """The NOT NULL columns without a default the revision adds to tables with rows."""
    return _about_tables_with_rows(databases, generated, filled, required_columns)


def _constrained(databases: "Databases", generated: Generated, filled: dict[BindKey, Filled]) -> list[str]:
    """What the data must meet for the constraints the revision adds to tables with rows."""
    return _about_tables_with_rows(databases, generated, filled, constraints_on_data)


def _about_tables_with_rows(
    databases: "Databases",
    generated: Generated,
    filled: dict[BindKey, Filled],
    read: Callable[[ops.UpgradeOps, set[str]], list[str]],
) -> list[str]:
    """What ``read`` finds in each database's operations about its tables with rows."""
    found = []
    for engine in generated.engines:
        if engine.bind in filled:
            found += databases.prefixed(engine.bind, read(engine.upgrade_ops, filled[engine.bind].with_rows))
    return found


def _plain_failure(
    databases: "Databases",
    generated: Generated,
    filled: dict[BindKey, Filled],
    exc: MigrationError,
    hint: str,
) -> RevisionFailedError:
    """The error for a revision that fails on any table with rows, saying why where the operations
    do (a NOT NULL column added without a default), else in the database's own words."""
    required = _required(databases, generated, filled)
    if not required:
        return RevisionFailedError(f"revision would fail on a table with rows: {_words(exc)}; {hint}")
    reason = "; ".join(f"{column} is NOT NULL with no default for existing rows" for column in required)
    fix = (
        f"give it a server default in the model, or a one-off default for the rows there are "
        f"(--default {required[0]}=VALUE)"
    )
    return RevisionFailedError(f"revision would fail on a table with rows: {reason}; {fix}; {hint}")


def _condition_failure(chosen: list[str], exc: MigrationError) -> Finding:
    conditions_met = " or if ".join(chosen)
    return Finding(
        f"fails if {conditions_met}: {_words(exc)}; check the production data before it is deployed",
        "fails_with_rows",
        conditions=chosen,
    )


def _words(exc: MigrationError) -> str:
    """The database's own words, without the revision's id (random in a run that writes nothing):
    the same models and history give the same report."""
    cause = exc.__cause__
    if cause is None:
        return str(exc)
    return " ".join(str(getattr(cause, "orig", None) or cause).split())
