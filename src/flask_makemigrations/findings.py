"""What the engine found, as a line for people that also says, for programs, what it is about.

Operations, warnings and schema differences are shown as sentences (``+ column user.email``,
``column user.email is dropped: ...``), and ``--format json`` gives them as entries with a kind and
the objects they name. One value carries both: a ``Finding`` is a ``str`` (so it prints, compares and
joins like the sentence it is, in the text report and in ``--strict``'s message) with its ``kind``,
the objects it is about, and a ``hint``: another task it sends the user to, which each front end
spells in its own syntax where the text says ``{command}`` (``errors.NextStep``, as errors and notes
do). Standard library only, like ``errors``.
"""

from typing import Any

from .errors import NextStep, Spelling, spelled


class Finding(str):
    """The sentence (with a neutral ``{command}``), its ``kind`` (``add_column``, ``column_dropped``,
    ...), what it names (``fields``: ``table``, ``column``, ``objects``, ...) and its ``hint``."""

    kind: str
    fields: dict[str, Any]
    hint: NextStep | None
    template: str  # the text as written, ``{command}`` and all

    def __new__(cls, text: str, kind: str, *, hint: NextStep | None = None, **fields: Any) -> "Finding":
        finding = super().__new__(cls, spelled(text, hint))
        finding.template = text
        finding.kind = kind
        finding.hint = hint
        finding.fields = {name: value for name, value in fields.items() if value is not None}
        return finding

    def render(self, spelling: Spelling | None = None) -> str:
        """The sentence with its hint written the way ``spelling`` (a front end's) says."""
        return spelled(self.template, self.hint, spelling)

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles keep the kind, the fields and the hint
        return (_rebuilt, (self.template, self.kind, self.hint, self.fields))


def _rebuilt(text: str, kind: str, hint: NextStep | None, fields: dict[str, Any]) -> Finding:
    return Finding(text, kind, hint=hint, **fields)


def extended(line: str, tail: str) -> str:
    """``line`` followed by ``tail`` (what to do about it), still saying what it is about."""
    if isinstance(line, Finding):
        return Finding(f"{line.template}{tail}", line.kind, hint=line.hint, **line.fields)
    return f"{line}{tail}"


def in_bind(line: str, bind: str) -> str:
    """``line`` about bind ``bind``'s database (``audit: + column entry.user_id``), and saying so."""
    if isinstance(line, Finding):
        return Finding(f"{bind}: {line.template}", line.kind, hint=line.hint, bind=bind, **line.fields)
    return Finding(f"{bind}: {line}", "other", bind=bind)


def rendered(line: str, spelling: Spelling | None = None) -> str:
    """``line`` as a front end shows it: a finding's hint in that front end's syntax."""
    return line.render(spelling) if isinstance(line, Finding) else str(line)


def as_entry(line: str, text_key: str = "message", spelling: Spelling | None = None) -> dict[str, Any]:
    """A line as a JSON entry: its kind and fields if it is a ``Finding``, else kind ``other``."""
    if isinstance(line, Finding):
        return {"kind": line.kind, **line.fields, text_key: line.render(spelling)}
    return {"kind": "other", text_key: str(line)}
