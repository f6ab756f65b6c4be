"""``verify`` with rows: the history applied once more from base, one revision at a time, each over
the rows the revisions before it left, as in a database that was in use while the history grew.

After each upgrade the tables it created (new, so empty) get made-up rows (``filling``). A revision
that fails over them is a note, not a failure of ``verify``: it went up on empty tables in the
stairway, and a revision already deployed cannot be changed; the note says where a database with
rows would stop, and the rows stop there too.
"""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic.script import Script

from ...errors import AppExitError, MigrationError
from ...run.binds import BindKey
from .filling import fill

if TYPE_CHECKING:  # annotations only: new_revision imports this package
    from ..new_revision import Databases


def upgrade_over_rows(databases: "Databases", revisions: list[Script]) -> list[str]:
    """Apply ``revisions`` in order from base (where the databases are on entry), filling the tables
    each one creates; the notes: the tables left empty, and the revision that failed over rows."""
    history, notes = databases.history, []
    present = {bind: _tables(databases, bind) for bind in databases.engines}
    for number, revision in enumerate(revisions, 1):
        try:
            history.upgrade(revision.revision)
        except AppExitError:
            raise
        except MigrationError as exc:
            where = f"revision {number} of {len(revisions)}"
            notes.append(
                f"verification with rows stopped at {where}, which fails on a table with rows: {exc}"
            )
            return notes
        for bind, engine in databases.engines.items():
            tables, present[bind] = present[bind], _tables(databases, bind)
            if present[bind] - tables:
                notes += databases.prefixed(bind, fill(engine, sorted(present[bind] - tables)).notes)
    return notes


def _tables(databases: "Databases", bind: BindKey) -> set[str]:
    """The tables of a database that autogenerate looks at (not the version table)."""
    filters = databases.filters(bind)
    with databases.engines[bind].connect() as connection:
        names = sa.inspect(connection).get_table_names()
    return {name for name in names if filters.keeps("table", name, None, True)}
