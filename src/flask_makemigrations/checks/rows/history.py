"""``verify`` with rows: the history applied once more from base, each revision over the rows the
revisions before it left, as in a database that was in use while the history grew.

The stairway saw which tables each revision creates (``Created``); the history goes up to each such
revision in turn (the revisions between them in the same upgrade: one run of ``env.py`` per table
creating revision, not per revision) and the new tables, empty, get made-up rows (``filling``). A
revision that fails over them is a note, not a failure of ``verify``: it went up on empty tables in
the stairway, and a revision already deployed cannot be changed; the note says where a database with
rows would stop, and the rows stop there too.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...errors import AppExitError, MigrationError
from ...run.binds import BindKey
from .filling import fill

if TYPE_CHECKING:  # annotations only: new_revision imports this package
    from ..new_revision import Databases, Schemas


@dataclass
class Created:
    """The tables each revision creates, by bind, in the order the stairway applied them."""

    tables: dict[str, dict[BindKey, list[str]]] = field(default_factory=dict)

    def record(self, revision: str, before: "Schemas", after: "Schemas") -> "Schemas":
        """Note the tables in ``after`` that were not in ``before``; return ``after``."""
        new = {bind: sorted(set(schema) - set(before.get(bind, {}))) for bind, schema in after.items()}
        if any(new.values()):
            self.tables[revision] = {bind: names for bind, names in new.items() if names}
        return after


def upgrade_over_rows(databases: "Databases", created: Created) -> list[str]:
    """Apply the history from base (where the databases are on entry) up to each revision that
    creates tables, filling them, then to the heads; the notes: the tables left empty, and the
    revision that failed over rows."""
    history, notes = databases.history, []
    for revision, tables in [*created.tables.items(), ("heads", {})]:
        try:
            history.upgrade(revision)
        except AppExitError:
            raise
        except MigrationError as exc:
            notes.append(f"verification with rows stopped where a database with rows would: {exc}")
            return notes
        for bind, names in tables.items():
            notes += databases.prefixed(bind, fill(databases.engines[bind], names).notes)
    return notes
