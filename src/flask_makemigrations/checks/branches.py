"""``--against REF``: would merging the target branch leave the history with several heads, and do
both sides change the same table?

Two branches that each add a revision on the same parent merge cleanly in git (they are different
files) and leave the history with two heads, found at deploy. The target's revision files are read
from git (``revisions/target_branch.py``) into the run's private folder (``Staging.beside``) and
combined with the working tree's, where this branch's file wins for a revision id both have
(uncommitted and untracked files are this branch's); Alembic's own graph of the combination
(``ScriptDirectory``, through ``History``) says which heads the merged history has. Only the
target's files that differ from the working tree's are read and placed in it: the history both
share is this branch's own. The revisions only one side has are compared by the tables their
upgrades change (``tables_touched.py``). ``rebase --onto`` starts from the same merged history
(``merged_with``).
"""

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import Script

from ..cache.headers import RevisionHeaders
from ..compat import RevisionLoader, every_revision, revision_id_of
from ..errors import AppExitError, MigrationError, NextStep, exit_call, foreign_failures, shown_path
from ..findings import Finding
from ..revisions.driver import History
from ..revisions.staging import Staging
from ..revisions.target_branch import RefFiles, revision_files_at
from .tables_touched import Touched, tables_touched

#: The side of a revision this branch has (in its working tree); one the target has is the ref's.
THIS_BRANCH = "this branch"
#: The side of a revision both have.
BOTH = "both"


@dataclass(frozen=True)
class Placed:
    """A revision of the merged history: its id, its file (where it is in the working tree, or would
    be once merged) and which side has it: ``this branch``, the ref, or ``both``."""

    revision: str
    path: str
    side: str

    def __str__(self) -> str:
        return f"{self.revision}, {self.path}"


@dataclass(frozen=True)
class Conflict:
    """A table both sides change, and the revisions on each side that change it."""

    table: str
    bind: str | None
    this_branch: list[Placed]
    target: list[Placed]


@dataclass
class Against:
    """What ``--against`` found: the merged history's heads and the tables both sides change."""

    ref: str
    heads: list[Placed]
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """A warning for several heads, and one for each table both sides change."""
        found = [self._several_heads()] if len(self.heads) > 1 else []
        return found + [self._conflict(conflict) for conflict in self.conflicts]

    def _several_heads(self) -> Finding:
        named = ", ".join(f"{head.revision} ({head.path}) on {self._side(head.side)}" for head in self.heads)
        return Finding(
            f"merging {self.ref} would leave the history with {len(self.heads)} heads: {named}; merge "
            f"{self.ref} into this branch, then join them with {{command}}",
            "branch_heads",
            hint=NextStep.MERGE,
            objects=[head.revision for head in self.heads],
        )

    def _conflict(self, conflict: Conflict) -> Finding:
        ours, theirs = "; ".join(map(str, conflict.this_branch)), "; ".join(map(str, conflict.target))
        table = f"{conflict.table} (bind {conflict.bind})" if conflict.bind else conflict.table
        return Finding(
            f"both {THIS_BRANCH} ({ours}) and {self.ref} ({theirs}) change table {table}: verify the "
            "history once they are merged",
            "branch_conflict",
            table=conflict.table,
            bind=conflict.bind,
            objects=[conflict.table],
        )

    def _side(self, side: str) -> str:
        return "both branches" if side == BOTH else side


@dataclass(frozen=True)
class Merged:
    """The run's history merged with a ref's, and which side has each revision."""

    ref: str
    history: History  # the merged history (the run's own, when the ref has no file it lacks)
    target: Staging | None  # the ref's files this branch lacks, beside the project's (None: none)
    sides: dict[str, str]  # each revision -> ``this branch``, the ref, or ``both``

    def only(self, side: str) -> list[Script]:
        """The revisions only ``side`` has, by id."""
        return [
            script for script in every_revision(self.history.script) if self.sides[script.revision] == side
        ]


def merged_with(history: History, folder: Path, ref: str, option: str = "--against") -> Merged:
    """The run's ``history`` merged with the one ``ref`` has, built in ``folder`` (the run's own);
    ``option`` is what its failures are told as."""
    locations = history.staging.version_locations
    files = revision_files_at(ref, history.staging.project_dir, locations, option)
    ours = {revision.revision: revision for revision in every_revision(history.script)}
    merged, target, shared = _merged(history, files, folder, (option, ref), ours)
    every = [revision.revision for revision in every_revision(merged.script)]
    sides = {revision: THIS_BRANCH if revision in ours else ref for revision in every}
    sides.update({revision: BOTH for revision, script in ours.items() if Path(script.path) in shared})
    return Merged(ref, merged, target, sides)


def check_against(history: History, folder: Path, ref: str) -> Against:
    """The run's ``history`` merged with the one ``ref`` has, built in ``folder`` (the run's own)."""
    found = merged_with(history, folder, ref)
    merged = found.history
    every = {revision.revision: revision for revision in every_revision(merged.script)}

    def placed(script: Script) -> Placed:
        shown = shown_path(merged.staging.project_path(script.path))
        return Placed(script.revision, shown, found.sides[script.revision])

    heads = [placed(merged.script.get_revision(head)) for head in merged.script.get_heads()]
    heads.sort(key=lambda head: (head.side != THIS_BRANCH, head.revision))
    only = {
        side: [placed(script) for script in sorted(found.only(side), key=_revision)]
        for side in (THIS_BRANCH, ref)
    }
    paths = {revision: Path(script.path) for revision, script in every.items()}
    return Against(ref, heads, _conflicts(only[THIS_BRANCH], only[ref], paths))


def _revision(script: Script) -> str:
    return script.revision


#: The option and the ref a failure is told as: ``("--against", "main")``.
_ToldAs = tuple[str, str]


def _merged(
    history: History, files: RefFiles, folder: Path, told_as: _ToldAs, ours: dict[str, Script]
) -> tuple[History, Staging | None, set[Path]]:
    """The history with the ref's files that differ from the working tree's, those files' staging,
    and the working tree's files the ref has too (byte for byte, or by revision id: this branch's
    file wins)."""
    shared = set(files.same)
    if not any(files.differing.values()):  # the ref has no file this branch lacks: this history
        return history, None, shared
    target = history.staging.beside(files.differing, folder)
    for copy, revision in _revision_ids(target, history.headers, told_as):
        if isinstance(revision, str) and revision in ours:
            copy.unlink()
            shared.add(Path(ours[revision].path))
    with _about(told_as):
        return History(history.adapter, history.staging.joined(target), history.headers), target, shared


def _revision_ids(
    target: Staging, headers: RevisionHeaders | None, told_as: _ToldAs
) -> list[tuple[Path, object]]:
    """Each of the ref's files (their copies in ``target``) and the revision id it declares."""
    load = headers.load if headers else None
    ref = told_as[1]
    return [
        (copy, _revision_id(copy, f"{shown_path(target.project_path(copy))} on {ref}", told_as, load))
        for location in target.version_locations
        for copy in sorted(location.rglob("*.py"))
    ]


def _revision_id(copy: Path, shown: str, told_as: _ToldAs, load: RevisionLoader | None) -> object:
    """What the file declares as its ``revision``; a file that fails to load is one line naming it."""
    option, ref = told_as
    with foreign_failures(
        lambda exc: AppExitError(f"{option} {ref!r}: {shown} called {exit_call(exc)} when loaded"),
        lambda exc: MigrationError(
            f"{option} {ref!r}: {shown} cannot be loaded: {type(exc).__name__}: {exc}"
        ),
    ):
        return revision_id_of(copy, load)


@contextmanager
def _about(told_as: _ToldAs) -> Iterator[None]:
    """A broken merged history is told as the option's (``--against 'main'``)."""
    option, ref = told_as
    try:
        yield
    except MigrationError as exc:
        raise MigrationError(f"{option} {ref!r}: {exc}") from None


def _conflicts(ours: list[Placed], theirs: list[Placed], paths: dict[str, Path]) -> list[Conflict]:
    """The tables both sides' own revisions change, each with those revisions."""
    touched_by: dict[Touched, tuple[list[Placed], list[Placed]]] = defaultdict(lambda: ([], []))
    for side, revisions in enumerate((ours, theirs)):
        for revision in sorted(revisions, key=lambda placed: placed.revision):
            for touched in tables_touched(paths[revision.revision].read_bytes()):
                touched_by[touched][side].append(revision)
    return [
        Conflict(touched.table, touched.bind or None, on_ours, on_theirs)
        for touched, (on_ours, on_theirs) in sorted(touched_by.items())
        if on_ours and on_theirs
    ]
