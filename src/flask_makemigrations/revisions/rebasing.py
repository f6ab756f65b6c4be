"""``rebase --onto REF``: which of this branch's revisions move, and their files rewritten to follow
the target branch's head.

This branch's revisions are those only it has in the history merged with the ref's
(``checks/branches.py``). To move them, they must be one line hanging from a revision both sides have:
a merge revision of its own, or several heads of its own, have no one place to go (``merge`` joins
them instead). Only the first revision of the line changes: its ``down_revision`` and the ``Revises:``
line of its docstring (as Alembic's templates write them) name the target's head, edited in its
source text so that everything else stays byte for byte; its file is renamed only if its name holds
the old parent's id. Revision ids stay, so the revisions after it are untouched.
"""

import ast
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import Script

from ..checks.branches import THIS_BRANCH, Merged
from ..errors import Advice, NextStep, UsageError, shown_path

#: The option that names the target, as rebase's messages tell it.
ONTO = "--onto"


@dataclass(frozen=True)
class Moved:
    """A revision of this branch, and where it is once it follows the target's head."""

    revision: str
    old_path: Path  # its file in the project
    path: Path  # its file once rebased: renamed only if the name held the old parent's id
    old_parent: str
    new_parent: str


@dataclass(frozen=True)
class Line:
    """What to move: this branch's revisions, oldest first, after the ref's head ``onto``; none, with
    the reason in ``nothing``, when there is nothing to do."""

    ref: str
    onto: str | None
    revisions: list[Script] = field(default_factory=list)
    nothing: str | None = None

    @property
    def files(self) -> list[Path]:
        return [Path(revision.path) for revision in self.revisions]

    @property
    def head(self) -> Script:
        return self.revisions[-1]

    @property
    def base(self) -> str:
        """The revision both sides have that the line hangs from today."""
        return str(self.revisions[0].down_revision)

    def moved(self) -> list[Moved]:
        """Each revision, with its parent and file once it follows ``onto``: only the first changes."""
        onto, found = str(self.onto), []
        for number, revision in enumerate(self.revisions):
            old_parent, path = str(revision.down_revision), Path(revision.path)
            if number == 0:
                new_path = renamed(path, revision.revision, old_parent, onto)
                found.append(Moved(revision.revision, path, new_path, old_parent, onto))
            else:
                found.append(Moved(revision.revision, path, path, old_parent, old_parent))
        return found


def line_to_move(merged: Merged) -> Line:
    """This branch's revisions in the merged history, as the line to move after the ref's head; a
    ``UsageError`` where they are no line, or the history more than the two heads rebase joins."""
    ref, script = merged.ref, merged.history.script
    told = f"{ONTO} {ref!r}"
    onto = _target_head(merged, told)
    own = {revision.revision: revision for revision in merged.only(THIS_BRANCH)}
    if not own:
        return Line(ref, onto, nothing="this branch has no revision of its own: nothing to rebase")
    heads = sorted(script.get_heads())
    if len(heads) == 1 and onto in _ancestors(merged, heads[0]):
        return Line(ref, onto, nothing=f"this branch's revisions already follow {ref}'s head {onto}")
    if len(heads) > 2:
        raise UsageError(
            f"{told}: the history merged with {ref}'s would have {len(heads)} heads ({', '.join(heads)}): "
            f"rebase moves one line of this branch's after {ref}'s head; join the others with {{command}}",
            NextStep.MERGE,
        )
    return Line(ref, onto, _as_line(own, told, ref))


def _target_head(merged: Merged, told: str) -> str:
    """The one head of the ref's history (the revisions it has, alone or with this branch)."""
    theirs = [
        revision
        for revision in merged.history.script.walk_revisions()
        if merged.sides[revision.revision] != THIS_BRANCH
    ]
    parents = {parent for revision in theirs for parent in _parents(revision)}
    heads = sorted(revision.revision for revision in theirs if revision.revision not in parents)
    if len(heads) != 1:
        having = f"{len(heads)} heads ({', '.join(heads)})" if heads else "no revision"
        raise UsageError(f"{told}: {merged.ref}'s history has {having}: rebase needs one head to follow")
    return heads[0]


def _as_line(own: dict[str, Script], told: str, ref: str) -> list[Script]:
    """``own`` oldest first, refused unless it is one line hanging from a revision both sides have."""
    merges = sorted(revision for revision, script in own.items() if len(_parents(script)) > 1)
    roots = sorted(revision for revision, script in own.items() if not set(_parents(script)) & set(own))
    if merges or len(roots) != 1:
        why = (
            f"{', '.join(merges)} merges several revisions"
            if merges
            else f"{', '.join(roots)} each start one"
        )
        raise UsageError(
            f"{told}: this branch's revisions are no line to move ({why}): merge {ref} into this branch, "
            "then join the heads with {command}",
            NextStep.MERGE,
        )
    (root,) = roots
    if own[root].down_revision is None:
        raise UsageError(
            f"{told}: this branch's revision {root} starts a history of its own (it revises nothing)"
        )
    line, current = [], own[root]
    while True:
        line.append(current)
        children = [child for child in current.nextrev if child in own]
        if not children:
            return line
        current = own[children[0]]


def _parents(revision: Script) -> tuple[str, ...]:
    down = revision.down_revision
    return () if down is None else (down,) if isinstance(down, str) else tuple(down)


def _ancestors(merged: Merged, head: str) -> set[str]:
    """``head`` and every revision it descends from."""
    script, found, waiting = merged.history.script, set(), [head]
    while waiting:
        current = waiting.pop()
        if current not in found:
            found.add(current)
            waiting += _parents(script.get_revision(current))
    return found


def renamed(path: Path, revision: str, old_parent: str, new_parent: str) -> Path:
    """``path`` with the old parent's id in its name replaced by the new one's (outside the revision's
    own id, which may hold it); the same path if the name does not hold it."""
    pieces = [piece.replace(old_parent, new_parent) for piece in path.stem.split(revision)]
    return path.with_name(revision.join(pieces) + path.suffix)


def rewritten(source: bytes, shown: str, old_parent: str, new_parent: str) -> bytes:
    """The revision's source with ``down_revision`` and its docstring's ``Revises:`` line naming
    ``new_parent``; nothing else changes (the literal keeps its quotes)."""
    tree = ast.parse(source)
    value = _down_revision_value(tree, old_parent)
    if value is None:
        raise UsageError(
            f"{shown}: its down_revision is not the string {old_parent!r} at the top level of the file, "
            "which rebase rewrites: set it by hand"
        )
    starts = _line_starts(source)
    begin, end = _span(value, starts)
    literal = source[begin:end]
    quote = literal[-1:]
    prefix = literal[: literal.index(quote)]  # a u or r before the quotes stays
    source = source[:begin] + prefix + quote + new_parent.encode() + quote + source[end:]
    docstring = _docstring(tree)
    if docstring is None:
        return source
    begin, end = _span(docstring, starts)  # before down_revision: the offsets still hold
    return source[:begin] + _revises(source[begin:end], old_parent, new_parent) + source[end:]


def _revises(docstring: bytes, old_parent: str, new_parent: str) -> bytes:
    """The docstring with its ``Revises: <old_parent>`` line naming ``new_parent``."""
    line = re.compile(rb"^(Revises:[ \t]*)" + re.escape(old_parent.encode()) + rb"([ \t]*\r?)$", re.MULTILINE)
    return line.sub(lambda found: found[1] + new_parent.encode() + found[2], docstring, count=1)


def _span(node: ast.expr, starts: list[int]) -> tuple[int, int]:
    """Where ``node`` is in the source, in bytes."""
    end_line, end_column = node.end_lineno or node.lineno, node.end_col_offset or node.col_offset
    return starts[node.lineno - 1] + node.col_offset, starts[end_line - 1] + end_column


def _down_revision_value(tree: ast.Module, old_parent: str) -> ast.expr | None:
    """The string literal assigned to ``down_revision`` at the module's top level, if it is ``old_parent``."""
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == "down_revision" for target in targets):
            return value if isinstance(value, ast.Constant) and value.value == old_parent else None
    return None


def _docstring(tree: ast.Module) -> ast.expr | None:
    first = tree.body[0] if tree.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.value
    return None


def _line_starts(source: bytes) -> list[int]:
    """Where each line begins, in bytes: ``ast``'s column offsets are UTF-8 bytes."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def diff(old: bytes, new: bytes, old_path: Path, new_path: Path) -> list[str]:
    """What a rewrite changes, as a unified diff (what ``--dry-run`` prints)."""
    return list(
        difflib.unified_diff(
            old.decode("utf-8", "replace").splitlines(),
            new.decode("utf-8", "replace").splitlines(),
            shown_path(old_path),
            shown_path(new_path),
            lineterm="",
        )
    )


def upgrade_statements(source: bytes) -> list[str]:
    """The statements of a revision's ``upgrade*`` functions as written (what regeneration replaces,
    for the report); docstrings and ``pass`` left out."""
    text = source.decode("utf-8", "replace")
    return list(_statements(ast.parse(text), text))


def _statements(tree: ast.Module, text: str) -> Iterator[str]:
    for function in tree.body:
        if isinstance(function, ast.FunctionDef) and function.name.startswith("upgrade"):
            for statement in function.body:
                if isinstance(statement, ast.Pass) or (
                    isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                ):
                    continue
                if isinstance(statement, ast.Expr) and ast.unparse(statement.value).startswith("globals()"):
                    continue  # a multi-database template's dispatch to upgrade_<engine>()
                yield ast.get_source_segment(text, statement) or ast.unparse(statement)


def unapplied_note(line: Line) -> Advice:
    """What a database that has this branch's revisions applied needs: their parent changed."""
    revisions = ", ".join(revision.revision for revision in line.revisions)
    return Advice(
        f"a database where this branch's revisions ({revisions}) were applied must be downgraded to "
        f"{line.base} with the old files before it upgrades with these: their parent changed"
    )
