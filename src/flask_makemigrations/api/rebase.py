"""``rebase --onto REF``: this branch's revisions moved after a git ref's head, proven on the shadow
database before any file changes, or regenerated against it when asked."""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..checks.new_revision import verify_new_revision
from ..errors import Advice, UnansweredQuestionError, UsageError, VerificationError, on_disk, shown_path
from ..questioner import Question
from ..revisions.driver import History
from ..revisions.generation import Generated, generate
from ..revisions.staging import Staging
from ..run.run import Run, open_run
from ..run.session import QUIET, Project, Runtime
from ..run.signals import uninterrupted

if TYPE_CHECKING:  # its modules are imported by its run only (every other run would pay for them)
    from ..checks.rebased import RebaseProof
    from ..revisions.rebasing import Line, Moved


@dataclass(frozen=True)
class Regenerated:
    """This branch's revisions replaced by one generated against the target's head, where they no
    longer applied after it: what they did, and what the new one does."""

    revision: str  # the id of this branch's head, which the new revision keeps
    reason: str  # why the rebase was not proven
    replaced: list[Path]  # this branch's revision files: removed, or with dry_run to be removed
    old_operations: list[str]  # their upgrades' statements, as written
    operations: list[str]  # the new revision's operations, one line each
    script: str  # the new revision's source (what --dry-run prints)
    path: Path | None = None  # the new revision, once written


@dataclass
class Rebased:
    """What ``rebase`` did (or, with ``dry_run``, would do), for the caller to print."""

    ref: str
    onto: str | None  # the ref's head, which this branch's revisions now follow
    nothing: str | None = None  # why there was nothing to do (then nothing else is set)
    moved: list["Moved"] = field(default_factory=list)  # this branch's revisions, oldest first
    proof: "RebaseProof | None" = None
    regenerated: Regenerated | None = None  # the proof failed, and they were replaced by one
    diff: list[str] = field(default_factory=list)  # with dry_run: what the rewrite would change
    backup: Path | None = None  # where copies of removed files are (files git could not give back)
    notes: list[Advice] = field(default_factory=list)


def rebase_onto(
    project: Project, onto: str, dry_run: bool = False, use_cache: bool = True, runtime: Runtime = QUIET
) -> Rebased:
    """Move this branch's revisions (those the git ref ``onto`` lacks) to follow the ref's head:
    rewritten in the run's folder (``revisions/rebasing.py``) and proven on the shadow databases
    (``checks/rebased.py``) before any file changes; where the proof fails, replaced by one revision
    generated against that head if the runtime's questioner says so."""
    from ..checks.branches import merged_with
    from ..checks.rebased import prove_rebase
    from ..revisions.rebasing import ONTO, line_to_move, unapplied_note

    if not onto.strip():
        raise UsageError(
            "rebase needs --onto REF: the git ref whose head this branch's revisions are to follow "
            "(e.g. origin/main)"
        )
    with open_run(project, runtime, writes=not dry_run, use_cache=use_cache) as run:
        merged = merged_with(run.history, run.session.shadow.workdir / "onto", onto, ONTO)
        line = line_to_move(merged)
        if not line.revisions:
            return Rebased(onto, line.onto, line.nothing, notes=run.notes)
        rebased = run.without(line.files, merged.target, known_headers=True)
        with run.migrating():
            run.build_to_head(rebased, show_progress=False)
            staged = _staged_rewrites(rebased, line)
            try:
                proof = prove_rebase(run.models_databases, rebased, line, use_cache)
            except VerificationError as failure:
                merged_in = merged.target is None  # the working tree has every revision of the ref
                return _regenerated(run, rebased, line, str(failure), dry_run, merged_in)
        done = Rebased(
            onto, line.onto, moved=line.moved(), proof=proof, notes=[*run.notes, unapplied_note(line)]
        )
        if dry_run:
            done.diff = _rewrite_diff(staged)
        else:
            done.backup = _publish_rewrites(rebased.staging, staged)
        return done


#: A revision of this branch whose file a rebase rewrites, and its rewritten copy in the run's folder.
_Rewrite = tuple["Moved", Path]


def _staged_rewrites(rebased: History, line: "Line") -> list[_Rewrite]:
    """This branch's revisions put back among the rebased history's copies (which then holds them
    after the target's head): those whose parent changes rewritten, the others as they are. Returns
    the rewritten ones."""
    from ..revisions.rebasing import rewritten

    staged = []
    for moved in line.moved():
        source = moved.old_path.read_bytes()
        copy = rebased.staging.copy_path(moved.path)
        changed = moved.old_parent != moved.new_parent
        if changed:
            source = rewritten(source, shown_path(moved.old_path), moved.old_parent, moved.new_parent)
            staged.append((moved, copy))
        with on_disk("writing the rebased revisions to the run's folder"):
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source)
    rebased.reload()
    return staged


def _rewrite_diff(staged: list[_Rewrite]) -> list[str]:
    """What the rewrite changes, file by file (``--dry-run``)."""
    from ..revisions.rebasing import diff

    return [
        line
        for moved, copy in staged
        for line in diff(moved.old_path.read_bytes(), copy.read_bytes(), moved.old_path, moved.path)
    ]


def _publish_rewrites(staging: Staging, staged: list[_Rewrite]) -> Path | None:
    """The rewritten files into the project, each in one step: a file of the same name replaced in
    place; a renamed one through the squash's swap, the old file removed under its journal (and
    copied first where git could not give it back). Returns where the copies are, if any."""
    from ..revisions.swap import needs_backup, swap

    renamed = {
        moved.old_path: needs_backup([moved.old_path]) for moved, _ in staged if moved.path != moved.old_path
    }
    backup = None
    with uninterrupted():
        for moved, copy in staged:
            if moved.old_path in renamed:
                backup = (
                    swap(staging, copy, [moved.old_path], renamed[moved.old_path], "rebase").backup or backup
                )
            else:
                staging.publish(copy, replace=True)
    return backup


def _regenerated(
    run: Run, rebased: History, line: "Line", reason: str, dry_run: bool, merged_in: bool
) -> Rebased:
    """The proof failed: with the questioner's yes, this branch's revisions replaced by one generated
    against the target's head (the head's id and message), verified as a new revision. Only once the
    target is merged in (``merged_in``): generating compares with the working tree's models, which
    lack the target's changes before, and the new revision would take them back."""
    from ..questioner import REGENERATE, REGENERATE_OPTION, regenerate_question
    from ..revisions.rebasing import unapplied_note, upgrade_statements
    from ..revisions.swap import needs_backup, swap

    ref, onto = line.ref, str(line.onto)
    if not merged_in:
        raise VerificationError(
            f"the rebase is not proven: {reason}; merge {ref} into this branch first (its models too), then "
            f"rebase again: only then can this branch's revisions be generated anew against {ref}'s head; "
            "nothing was changed"
        )
    answer = run.runtime.questioner.ask_regenerate(ref, onto, reason)
    if answer is None:
        question = Question(REGENERATE, regenerate_question(ref, onto, reason), REGENERATE_OPTION)
        raise UnansweredQuestionError(
            f"this branch's revisions do not apply after {ref}'s head {onto}: {reason}; {REGENERATE_OPTION} "
            "replaces them by one revision generated against it; nothing was changed",
            [question],
        )
    if not answer:
        raise VerificationError(f"the rebase is not proven: {reason}; nothing was changed")
    generated = _generated_at_target(run, rebased, line)
    old = [statement for path in line.files for statement in upgrade_statements(path.read_bytes())]
    done = Regenerated(
        line.head.revision, reason, line.files, old, generated.operations, generated.script or ""
    )
    result = Rebased(ref, onto, regenerated=done, notes=[*run.notes, unapplied_note(line)])
    if not dry_run:
        backup = needs_backup(line.files)
        with uninterrupted():
            swapped = swap(rebased.staging, cast(Path, generated.staged_file), line.files, backup, "rebase")
        result.regenerated = replace(done, path=swapped.path)
        result.backup = swapped.backup
    return result


def _generated_at_target(run: Run, rebased: History, line: "Line") -> Generated:
    """The rewritten revisions taken out again, the shadow databases built anew at the target's head,
    and one revision generated there with the id and message of this branch's head, verified."""
    from ..checks.squashed import NOTHING_CHANGED

    own = [rebased.staging.copy_path(moved.path) for moved in line.moved()]
    for leftover in [*own, *rebased.staging.new_files()]:  # new files: the proof's check may leave one
        leftover.unlink(missing_ok=True)
    rebased.reload()
    run.empty_shadows()
    run.build_to_head(rebased, show_progress=False)
    head = line.head
    generated = generate(rebased, head.doc, rev_id=head.revision, questioner=run.runtime.questioner)
    if generated.staged_file is None:  # what they did, the target's head has already: a blank revision
        generated = generate(rebased, head.doc, empty=True, rev_id=head.revision)
    shown = shown_path(rebased.staging.project_path(cast(Path, generated.staged_file)))
    verified = verify_new_revision(
        run.models_databases, rebased, generated, line.onto, NOTHING_CHANGED, shown, run.use_cache
    )
    if verified.differences:
        raise VerificationError(
            f"the revision generated against {line.ref}'s head {line.onto} differs from the models: "
            f"{'; '.join(verified.differences)}; nothing was changed"
        )
    return generated
