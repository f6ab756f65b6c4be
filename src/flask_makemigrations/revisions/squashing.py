"""What ``squash`` folds: the linear run of revisions after ``--since`` up to the single head, and
whether each of them does nothing but change the schema.

A squash replaces those files by one revision that keeps the head's id (so a database already at
head stays valid) and whose parent is ``--since``. It is refused where that would lose something: a
branch point, a merge, a branch label or a ``depends_on`` inside the range, and any revision whose
functions do more than the schema operations the comparison can prove (``op.execute``,
``bulk_insert``, ``op.get_bind()``...), or hold statements this check does not read (a loop): data
migrations are never dropped silently. Each refusal says how to leave the revision out, or that no
``--since`` can (a squash folds at least two revisions, up to the head).
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from alembic.script import Script

from ..compat import every_revision
from ..errors import UsageError, shown_path
from .driver import History

#: The operations whose whole effect the schema comparison sees (tables, columns, keys, indexes,
#: constraints), called on ``op`` or on a ``batch_alter_table`` block's object.
SCHEMA_OPERATIONS = frozenset(
    {
        "add_column",
        "alter_column",
        "batch_alter_table",
        "create_check_constraint",
        "create_foreign_key",
        "create_index",
        "create_primary_key",
        "create_table",
        "create_unique_constraint",
        "drop_column",
        "drop_constraint",
        "drop_index",
        "drop_table",
        "f",
        "rename_table",
    }
)


@dataclass(frozen=True)
class SquashRange:
    """The revisions to fold, oldest first, and the revision the squashed one follows (None: base)."""

    since: str | None
    revisions: list[Script]

    @property
    def head(self) -> str:
        return self.revisions[-1].revision

    @property
    def files(self) -> list[Path]:
        return [Path(revision.path) for revision in self.revisions]


def squash_range(history: History, since: str | None) -> SquashRange:
    """The range to fold, or a ``UsageError`` saying why this history cannot be squashed there."""
    head = history.single_head()
    if head is None:
        raise UsageError("nothing to squash: the history has no revisions")
    revisions = {r.revision: r for r in every_revision(history.script)}
    since = _resolved(history, since)
    if since == head:
        raise UsageError(f"nothing to squash: --since {head} is the head")
    named_by: dict[str, list[str]] = {}  # revision -> the revisions whose depends_on names it
    for other in revisions.values():
        for dependency in _dependencies(other):
            named_by.setdefault(dependency, []).append(other.revision)
    folded: list[Script] = []
    current: str | None = head
    while current != since:
        if current is None:  # reached base without meeting it: another root's revision
            raise UsageError(f"--since {since!r} is not an ancestor of the head {head}")
        revision = revisions[current]
        _check_linear(revision, history, named_by.get(revision.revision, []), newer=len(folded))
        folded.append(revision)
        current = cast("str | None", revision.down_revision)  # _check_linear refused merges
    if len(folded) < 2:
        raise UsageError(f"nothing to squash: only {head} comes after {since or 'base'}")
    folded.reverse()
    _check_schema_only(folded, history)
    return SquashRange(since, folded)


def _resolved(history: History, since: str | None) -> str | None:
    """``--since`` as a revision id: a full or partial id, or ``base`` (None)."""
    if since is None or since == "base":
        return None
    try:
        found = history.script.get_revision(since)
    except Exception as exc:  # Alembic's CommandError or ResolutionError: unknown, or ambiguous
        said = " ".join(str(exc).split())
        reason = said if "Multiple" in said else "no such revision in the history"
        raise UsageError(f"--since {since!r}: {reason}") from None
    if found is None:
        raise UsageError(f"--since {since!r}: no such revision in the history")
    return str(found.revision)


def _check_linear(revision: Script, history: History, named_by: list[str], newer: int) -> None:
    """``newer``: how many revisions of the range come after this one."""
    shown = f"revision {revision.revision} ({shown_path(history.staging.project_path(revision.path))})"
    if isinstance(revision.down_revision, (tuple, list)):
        raise UsageError(f"{shown} merges several revisions: {_leave_out(revision.revision, newer)}")
    if len(revision.nextrev) > 1:
        raise UsageError(f"{shown} is a branch point: {_leave_out(revision.revision, newer)}")
    if revision.branch_labels:
        labels = ", ".join(sorted(revision.branch_labels))
        raise UsageError(f"{shown} has branch labels ({labels}), which a squash would lose")
    if revision.dependencies:
        raise UsageError(f"{shown} depends on other revisions (depends_on), which a squash would lose")
    if named_by:
        raise UsageError(
            f"{shown} is named by depends_on in {', '.join(sorted(named_by))}, which a squash would break"
        )


def _dependencies(revision: Script) -> tuple[str, ...]:
    found = revision.dependencies or ()
    return (found,) if isinstance(found, str) else tuple(found)


def _leave_out(revision: str, newer: int, them: str = "it") -> str:
    """How a squash leaves ``revision`` out: fold what follows it, if two or more revisions do."""
    if newer >= 2:
        return f"squash after {them} (--since {revision})"
    follows = "nothing follows it" if newer == 0 else "only the head follows it"
    return f"no squash can leave out {revision} ({follows}, and a squash folds two or more revisions)"


@dataclass
class Unproven:
    """What a revision's functions hold besides schema operations, each named once: calls that do
    more (``op.execute()``, ``op.get_bind()``), and statements this check does not read, so cannot
    tell what they do (``a for loop at line 12``)."""

    more: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.more or self.unread)


def _check_schema_only(revisions: list[Script], history: History) -> None:
    """Refuse, listing them, the revisions whose functions do anything but schema operations, or
    anything this check cannot read."""
    more, unread, last = [], [], None
    for index, revision in enumerate(revisions):
        try:
            found = extra_statements(Path(revision.path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, SyntaxError):
            found = Unproven(unread=["a file this check cannot read (not UTF-8 Python)"])
        shown = f"{revision.revision} ({shown_path(history.staging.project_path(revision.path))}"
        if found.more:
            more.append(f"{shown}: {', '.join(found.more)})")
        if found.unread:
            unread.append(f"{shown}: {', '.join(found.unread)})")
        if found:
            last = index
    if last is None:
        return
    reasons = []
    if more:
        reasons.append(
            "revisions in the range do more than change the schema, which the squash could not prove "
            f"it keeps: {'; '.join(more)}"
        )
    if unread:
        reasons.append(
            "revisions in the range hold statements this check does not read, so the squash could not "
            f"prove it keeps what they do: {'; '.join(unread)}; write each schema operation as a "
            "statement of its own"
        )
    newest = revisions[last].revision
    raise UsageError(f"{'; '.join(reasons)}; {_leave_out(newest, len(revisions) - 1 - last, 'them')}")


def extra_statements(source: str) -> Unproven:
    """What the ``upgrade*``/``downgrade*`` functions of a revision hold besides schema operations:
    every statement must be one such call on ``op`` (or a ``batch_alter_table`` or
    ``autocommit_block`` block of them), with no other call on ``op`` in its arguments
    (``op.get_bind()``)."""
    found = Unproven()
    for function in ast.parse(source).body:
        if isinstance(function, ast.FunctionDef) and function.name.startswith(("upgrade", "downgrade")):
            for more, what in _extra(function.body, frozenset({"op"})):
                (found.more if more else found.unread).append(what)
    found.more, found.unread = list(dict.fromkeys(found.more)), list(dict.fromkeys(found.unread))
    return found


def _extra(body: list[ast.stmt], owners: frozenset[str]) -> Iterator[tuple[bool, str]]:
    """``(True, "op.execute()")`` for a call that does more than change the schema, ``(False, "a for
    loop at line 12")`` for a statement this check does not read."""
    for statement in body:
        if isinstance(statement, ast.Pass) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        ):
            continue
        if isinstance(statement, ast.With) and all(
            _is_batch(item.context_expr) or _is_autocommit_block(item.context_expr)
            for item in statement.items
        ):
            names = {
                item.optional_vars.id for item in statement.items if isinstance(item.optional_vars, ast.Name)
            }
            for item in statement.items:
                if not _is_autocommit_block(item.context_expr):
                    yield from _other_calls(item.context_expr, owners)
            yield from _extra(statement.body, owners | names)
            continue
        if isinstance(statement, ast.Expr) and _is_schema_call(statement.value, owners):
            yield from _other_calls(statement.value, owners)
            continue
        if isinstance(statement, ast.Expr) and (
            _is_enum_type_statement(statement.value) or _is_engine_dispatch(statement.value)
        ):
            continue
        calls = list(_other_calls(statement, owners))
        yield from calls if calls else [(False, _shown(statement))]


def _is_enum_type_statement(expression: ast.expr) -> bool:
    """``sa.Enum(...).create(op.get_bind(), checkfirst=True)`` (or ``.drop``): what the tool and
    alembic-postgresql-enum write for an enum type, whose values the comparison sees in its columns."""
    if not isinstance(expression, ast.Call) or not isinstance(expression.func, ast.Attribute):
        return False
    enum, method = expression.func.value, expression.func.attr
    return (
        method in ("create", "drop")
        and isinstance(enum, ast.Call)
        and ast.unparse(enum.func).split(".")[-1] in ("Enum", "ENUM")
        and [ast.unparse(argument) for argument in expression.args] == ["op.get_bind()"]
        and all(keyword.arg == "checkfirst" for keyword in expression.keywords)
    )


def _is_engine_dispatch(expression: ast.expr) -> bool:
    """``globals()["upgrade_%s" % engine_name]()``: a multi-database template's ``upgrade()``, which
    calls the engine's function (checked as one of the ``upgrade_*`` functions)."""
    return (
        isinstance(expression, ast.Call)
        and isinstance(expression.func, ast.Subscript)
        and ast.unparse(expression.func.value) == "globals()"
    )


def _is_batch(expression: ast.expr) -> bool:
    return _is_schema_call(expression, frozenset({"op"})) and _called(expression) == "op.batch_alter_table"


def _is_autocommit_block(expression: ast.expr) -> bool:
    """``op.get_context().autocommit_block()``: its operations run outside the transaction (a
    PostgreSQL ``CREATE INDEX CONCURRENTLY``) and change the schema all the same."""
    return ast.unparse(expression) == "op.get_context().autocommit_block()"


def _is_schema_call(expression: ast.expr, owners: frozenset[str]) -> bool:
    if not isinstance(expression, ast.Call) or not isinstance(expression.func, ast.Attribute):
        return False
    owner = expression.func.value
    return isinstance(owner, ast.Name) and owner.id in owners and expression.func.attr in SCHEMA_OPERATIONS


def _other_calls(node: ast.AST, owners: frozenset[str]) -> Iterator[tuple[bool, str]]:
    """``op.execute()``, ``op.get_bind()``, ``op.inline_literal()``...: what else on ``op`` a
    statement or an operation's arguments use."""
    for attribute in ast.walk(node):
        if (
            isinstance(attribute, ast.Attribute)
            and isinstance(attribute.value, ast.Name)
            and attribute.value.id in owners
            and attribute.attr not in SCHEMA_OPERATIONS
        ):
            yield True, f"{attribute.value.id}.{attribute.attr}()"


def _called(call: ast.expr) -> str:
    return ast.unparse(call.func) if isinstance(call, ast.Call) else ""


#: How a statement this check does not read is named, by its class.
_STATEMENTS = {
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.If: "an if statement",
    ast.Try: "a try statement",
    ast.With: "a with block",
    ast.Assign: "an assignment",
    ast.AugAssign: "an assignment",
    ast.AnnAssign: "an assignment",
    ast.Return: "a return",
    ast.FunctionDef: "a function definition",
    ast.Import: "an import",
    ast.ImportFrom: "an import",
}


def _shown(statement: ast.stmt) -> str:
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        called = _called(statement.value)
        return f"{called if len(called) <= 40 else called[:37] + '...'}() at line {statement.lineno}"
    named = _STATEMENTS.get(type(statement), f"a {type(statement).__name__.lower()} statement")
    return f"{named} at line {statement.lineno}"
