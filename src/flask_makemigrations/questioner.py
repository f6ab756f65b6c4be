"""What the engine asks the user about a revision that autogenerate cannot know, and the answers.

Autogenerate sees the models and the database, not intent: a column dropped and another added with
its type may be a rename; a NOT NULL column added to a table with rows needs a value for them;
``rebase`` asks whether revisions that no longer apply after the target's head may be replaced. The
rewrites that act on the answers (``revisions/answers.py``) ask a ``Questioner``, the one the front end
passes in ``Runtime``, instead of deciding inside the engine. Django's ``MigrationQuestioner`` is the
model: the engine calls ``ask_*`` and never knows whether a person answered. ``Answers`` holds what was
given up front (``--rename``, ``--default``) and asks someone else, if anyone, the rest;
``ANSWER_DEFAULTS`` asks no one: no rename, no value, the revision as autogenerate writes it.
Standard library only, like ``errors``: a front end builds one before the engine is imported.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from .errors import UsageError


@runtime_checkable
class Questioner(Protocol):
    """The questions, each with the answer that leaves the revision as autogenerate wrote it."""

    def ask_rename_table(self, old: str, new: str) -> bool | None:
        """Is table ``old``, dropped, the table ``new``, created with the same columns? (None: no one
        answered, which is a no)"""
        ...

    def ask_rename_column(self, table: str, old: str, new: str, type_: str) -> bool | None:
        """Is ``table.old``, dropped, the column ``table.new``, added with the same type ``type_``?
        (None: no one answered, which is a no)"""
        ...

    def ask_not_null_addition(self, table: str, column: str, type_: str) -> str | None:
        """The one-off default that NOT NULL column ``table.column``, added without a server default,
        gives the rows the table has: a value, which the DEFAULT clause gives as a string and the
        database converts to the column's type. (None: none was given; a writing run cannot go on)"""
        ...

    def ask_regenerate(self, ref: str, head: str, reason: str) -> bool | None:
        """This branch's revisions fail after ``ref``'s head ``head`` (``reason``): may they be
        replaced by one revision generated against it? (None: no one answered; nothing changes)"""
        ...

    def ask_safe_forms(self, findings: list[str]) -> bool | None:
        """The revision takes locks that block production on PostgreSQL (``findings``, as measured on
        the shadow database): write it in its safe form (``--safe``)? (None: no one answered, which
        is a no)"""
        ...


def table_rename_question(old: str, new: str) -> str:
    return f"Did you rename table {old} to {new}?"


def column_rename_question(table: str, old: str, new: str, type_: str) -> str:
    return f"Did you rename {table}.{old} to {table}.{new} ({type_})?"


def not_null_question(table: str, column: str, type_: str) -> str:
    return (
        f"It is impossible to add the NOT NULL column {table}.{column} ({type_}) without a default: "
        f"the rows {table} has need a value"
    )


def regenerate_question(ref: str, head: str, reason: str) -> str:
    return (
        f"This branch's revisions do not apply after {ref}'s head {head} ({reason}). Replace them by one "
        "revision generated against it?"
    )


#: The option that answers the regeneration question up front.
REGENERATE_OPTION = "--regenerate"


def safe_forms_question(findings: list[str]) -> str:
    listed = "".join(f"  - {finding}\n" for finding in findings)
    return (
        f"The revision blocks production on PostgreSQL, as measured on the shadow database:\n{listed}"
        "Write it in its safe form (CREATE INDEX CONCURRENTLY, NOT VALID then VALIDATE, a lock_timeout; "
        "as --safe does)?"
    )


def rename_option(old: str, new: str) -> str:
    """The option that answers a rename up front: ``--rename user.name=full_name`` (a column, ``old``
    as ``table.column``) or ``--rename old_table=new_table``."""
    return f"--rename {old}={new}"


def default_option(table: str, column: str) -> str:
    """The option that gives a one-off default up front."""
    return f"--default {table}.{column}=VALUE"


#: The kinds of question.
RENAME_TABLE, RENAME_COLUMN, NOT_NULL_DEFAULT = "rename_table", "rename_column", "not_null_default"
REGENERATE = "regenerate"


@dataclass(frozen=True)
class Question:
    """A question no one answered: what a report lists, and the option that answers it."""

    kind: str  # RENAME_TABLE, RENAME_COLUMN, NOT_NULL_DEFAULT or REGENERATE
    text: str
    option: str


@dataclass(frozen=True)
class Answers:
    """Answers given up front; what they do not answer, ``otherwise`` is asked (no one, if None).
    Frozen, so that one value is safe to share (``Runtime``'s default)."""

    table_renames: Mapping[str, str] = field(default_factory=dict)  # old -> new
    column_renames: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (table, old) -> new
    defaults: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (table, column) -> value
    otherwise: Questioner | None = None
    regenerate: bool = False  # --regenerate: yes to the regeneration question

    @classmethod
    def parse(
        cls,
        renames: Iterable[str] = (),
        defaults: Iterable[str] = (),
        otherwise: Questioner | None = None,
        regenerate: bool = False,
    ) -> "Answers":
        """``--rename`` (``table.old=new`` or ``old_table=new_table``), ``--default``
        (``table.column=VALUE``) and ``--regenerate``, as a command line gives them."""
        tables: dict[str, str] = {}
        columns: dict[tuple[str, str], str] = {}
        for given in renames:
            old, new = _pair("--rename", given, _RENAME_FORM)
            table, dot, column = old.rpartition(".")
            if dot and table and column and "." not in new:
                columns[(table, column)] = new
            elif not dot and "." not in new:
                tables[old] = new
            else:
                raise _unreadable("--rename", given, _RENAME_FORM)
        values: dict[tuple[str, str], str] = {}
        for given in defaults:
            target, value = _pair("--default", given, _DEFAULT_FORM)
            table, dot, column = target.rpartition(".")
            if not (dot and table and column):
                raise _unreadable("--default", given, _DEFAULT_FORM)
            values[(table, column)] = value
        return cls(tables, columns, values, otherwise, regenerate)

    def ask_rename_table(self, old: str, new: str) -> bool | None:
        if old in self.table_renames:
            return self.table_renames[old] == new
        return self.otherwise.ask_rename_table(old, new) if self.otherwise is not None else None

    def ask_rename_column(self, table: str, old: str, new: str, type_: str) -> bool | None:
        if (table, old) in self.column_renames:
            return self.column_renames[(table, old)] == new
        return (
            self.otherwise.ask_rename_column(table, old, new, type_) if self.otherwise is not None else None
        )

    def ask_not_null_addition(self, table: str, column: str, type_: str) -> str | None:
        if (table, column) in self.defaults:
            return self.defaults[(table, column)]
        return (
            self.otherwise.ask_not_null_addition(table, column, type_) if self.otherwise is not None else None
        )

    def ask_regenerate(self, ref: str, head: str, reason: str) -> bool | None:
        if self.regenerate:
            return True
        return self.otherwise.ask_regenerate(ref, head, reason) if self.otherwise is not None else None

    def ask_safe_forms(self, findings: list[str]) -> bool | None:
        return self.otherwise.ask_safe_forms(findings) if self.otherwise is not None else None


#: What each option's value looks like, as its error says.
_RENAME_FORM = "user.name=full_name (a column) or old_table=new_table"
_DEFAULT_FORM = "table.column=VALUE, e.g. user.age=0"


def _pair(option: str, given: str, form: str) -> tuple[str, str]:
    left, separator, right = given.partition("=")
    if not (separator and left.strip() and right.strip()):
        raise _unreadable(option, given, form)
    return left.strip(), right.strip()


def _unreadable(option: str, given: str, form: str) -> UsageError:
    return UsageError(f"{option} {given}: give {form}")


#: Each question's default, the revision as autogenerate writes it: what an API caller gets.
ANSWER_DEFAULTS: Questioner = Answers()
