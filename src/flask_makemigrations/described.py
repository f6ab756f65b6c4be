"""A line for people that also says, for programs, what it is about.

Operations, warnings and schema differences are shown as sentences (``+ column user.email``,
``column user.email is dropped: ...``), and ``--format json`` gives them as entries with a kind and
the objects they name. One value carries both: a ``str`` (so it prints, compares and joins like the
sentence it is) with a ``kind`` and named fields. Standard library only, like ``errors``.
"""

from typing import Any


class Described(str):
    """The sentence, its ``kind`` (``add_column``, ``column_dropped``, ...) and what it names
    (``table``, ``column``, ``objects``, ...)."""

    kind: str
    fields: dict[str, Any]

    def __new__(cls, text: str, kind: str, **fields: Any) -> "Described":
        described = super().__new__(cls, text)
        described.kind = kind
        described.fields = {name: value for name, value in fields.items() if value is not None}
        return described

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles keep the kind and the fields
        return (_rebuilt, (str(self), self.kind, self.fields))


def _rebuilt(text: str, kind: str, fields: dict[str, Any]) -> Described:
    return Described(text, kind, **fields)


def extended(line: str, tail: str) -> str:
    """``line`` followed by ``tail`` (what to do about it), still saying what it is about."""
    if isinstance(line, Described):
        return Described(f"{line}{tail}", line.kind, **line.fields)
    return f"{line}{tail}"


def in_bind(line: str, bind: str) -> str:
    """``line`` about bind ``bind``'s database (``audit: + column entry.user_id``), and saying so."""
    if isinstance(line, Described):
        return Described(f"{bind}: {line}", line.kind, bind=bind, **line.fields)
    return Described(f"{bind}: {line}", "other", bind=bind)


def as_entry(line: str, text_key: str = "message") -> dict[str, Any]:
    """A line as a JSON entry: its kind and fields if it is ``Described``, else kind ``other``."""
    if isinstance(line, Described):
        return {"kind": line.kind, **line.fields, text_key: str(line)}
    return {"kind": "other", text_key: str(line)}
