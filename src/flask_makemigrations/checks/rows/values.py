"""A made-up value for a column: from its reflected type, its length and what the table's CHECK
constraints say about it.

Row ``number`` (0, 1, 2) of a table gets, in every column, a value no other row of it has (so primary
keys and unique constraints hold) that fits the column's length, and the same one in every run: a
function of the type and the number, nothing random, so identical runs insert identical rows and
report identical results.
"""

import datetime
import math
import re
import string
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

#: ``status IN ('a', 'b')``, as SQLite and MariaDB give it back (the column may be quoted).
_IN_LIST = re.compile(r"""^\W*(\w+)[`"]?\s+IN\s*\(([^()]*)\)\W*$""", re.IGNORECASE)
#: PostgreSQL's spelling of the same: ``((status)::text = ANY ((ARRAY['a'::character varying, ...``.
_ANY_ARRAY = re.compile(r"""^\W*(\w+)[`")]*(?:::[\w ]+)?\)?\s*=\s*ANY\s*\(+ARRAY\[(.*)\]""", re.IGNORECASE)
#: ``price > 0``, ``(pages >= 1)``: a lower bound.
_LOWER_BOUND = re.compile(r"""^\W*(\w+)[`")]*\s*(>=|>)\s*\(?\s*(-?\d+(?:\.\d+)?)\W*$""")
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


class Unfillable(Exception):
    """A NOT NULL column the tool has no value for; its message says why, for the note."""


@dataclass(frozen=True)
class Hint:
    """What a table's CHECK constraints say about one column's values, where the tool can read it."""

    choices: tuple[str, ...] = ()  # ``column IN (...)``: the values allowed
    least: Decimal | None = None  # ``column > N`` or ``>= N``: the smallest value allowed


NO_HINT = Hint()


def hints(checks: Iterable[str]) -> dict[str, Hint]:
    """The hints of the CHECK constraints' SQL texts, by column; a check the tool cannot read gives
    none (the database then says whether the rows satisfy it)."""
    found: dict[str, Hint] = {}
    for text in checks:
        listed = _IN_LIST.match(text) or _ANY_ARRAY.match(text)
        if listed:
            choices = tuple(value.replace("''", "'") for value in _QUOTED.findall(listed.group(2)))
            found[listed.group(1)] = Hint(choices=choices)
            continue
        bound = _LOWER_BOUND.match(text)
        if bound:
            least = Decimal(bound.group(3))
            found[bound.group(1)] = Hint(least=least + 1 if bound.group(2) == ">" else least)
    return found


def value(type_: TypeEngine[Any], number: int, hint: Hint = NO_HINT) -> Any:
    """Row ``number``'s value of a column of this type; raises ``Unfillable`` for a type the tool does
    not know."""
    if hint.choices:
        return hint.choices[number % len(hint.choices)]
    if isinstance(type_, sa.Enum) and type_.enums:
        return type_.enums[number % len(type_.enums)]
    if isinstance(type_, sa.JSON):
        return {"row": number + 1}
    if "UUID" in type(type_).__name__.upper():  # a UUID type, whatever its Python side
        made = uuid.UUID(int=number + 1)
        return made if _python_type(type_) is uuid.UUID else str(made)
    python = _python_type(type_)
    least = math.ceil(hint.least) if hint.least is not None else 1
    if python is bool:
        return number % 2 == 0
    if python is int:
        return least + number
    if python in (float, Decimal):
        return python(hint.least + number) if hint.least is not None else python(number + 1)
    if python is str:
        return _text(number, getattr(type_, "length", None))
    if python is bytes:
        return _text(number, getattr(type_, "length", None)).encode("ascii")
    return _temporal(python, number, type_)


def _python_type(type_: TypeEngine[Any]) -> type | None:
    try:
        return type_.python_type
    except NotImplementedError:  # a type that does not say (a dialect's own, NullType)
        return None


def _temporal(python: type | None, number: int, type_: TypeEngine[Any]) -> Any:
    """Dates and times (``datetime`` before ``date``: it is one)."""
    if python is datetime.datetime:
        return datetime.datetime(2000, 1, 1 + number, 12, 0)
    if python is datetime.date:
        return datetime.date(2000, 1, 1 + number)
    if python is datetime.time:
        return datetime.time(12, number)
    if python is datetime.timedelta:
        return datetime.timedelta(days=number + 1)
    raise Unfillable(f"the tool has no value for its type {type_!r}")


def _text(number: int, length: int | None) -> str:
    """``r1``, ``r2``, ...; one letter each where the column holds fewer characters."""
    made = f"r{number + 1}"
    return made if length is None or len(made) <= length else string.ascii_lowercase[number]
