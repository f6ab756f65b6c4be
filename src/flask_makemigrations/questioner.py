"""What the engine may ask the user about a revision that autogenerate cannot know.

Autogenerate sees the models and the database, not intent: a column dropped and another added with
its type may be a rename; a NOT NULL column added to a table with rows needs a value for them. Today
the review only warns about both (``checks/review.py``); the rewrites that will act on them
(``revisions/rewriter.py``) ask a ``Questioner``, the one the front end passes in ``Runtime``,
instead of deciding inside the engine. Django's ``MigrationQuestioner`` is the model: the engine
calls ``ask_*`` and never knows whether a person answered. ``ANSWER_DEFAULTS`` answers without
asking, what the generated revision does today: no rename, no value. Standard library only, like
``errors``: a front end may build one before the engine is imported.
"""

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@runtime_checkable
class Questioner(Protocol):
    """The questions, each with the answer that leaves the revision as autogenerate wrote it."""

    def ask_rename_table(self, old: str, new: str) -> bool:
        """Is table ``old``, dropped, the table ``new``, created with the same columns? (False)"""
        ...

    def ask_rename_column(self, table: str, old: str, new: str) -> bool:
        """Is ``table.old``, dropped, the column ``table.new``, added with the same type? (False)"""
        ...

    def ask_not_null_addition(self, table: str, column: str) -> str | None:
        """The server default (SQL) that NOT NULL column ``table.column``, added without one, gets for
        the rows the table has. (None: none, and the review warns)"""
        ...

    def ask_not_null_alteration(self, table: str, column: str) -> str | None:
        """The value (SQL) the rows holding NULL get before ``table.column`` is made NOT NULL.
        (None: none, and the review warns)"""
        ...


@dataclass(frozen=True)
class Answers:
    """Answers given up front, the same for every question of a kind: no one is asked. Frozen, so
    that one value is safe to share (``Runtime``'s default)."""

    renames: bool = False
    not_null_default: str | None = None

    def ask_rename_table(self, old: str, new: str) -> bool:
        return self.renames

    def ask_rename_column(self, table: str, old: str, new: str) -> bool:
        return self.renames

    def ask_not_null_addition(self, table: str, column: str) -> str | None:
        return self.not_null_default

    def ask_not_null_alteration(self, table: str, column: str) -> str | None:
        return self.not_null_default


#: Each question's default, the revision as autogenerate writes it: what an API caller gets.
ANSWER_DEFAULTS: Questioner = Answers()
