"""Replacing the folded revision files by the squashed one, so that nothing is lost and an interrupted
swap is never mistaken for a history.

Before anything changes: in a git work tree every file to remove must be tracked and unchanged (git
keeps them); elsewhere each is copied into a backup folder first, and synced. Only then is a journal
written into the migrations directory; the new file is published, the old ones removed and then the
journal, with Ctrl-C and SIGTERM ignored by the caller. Only a kill, a crash or a failing disk can
stop it, and then the journal is still there: every task that reads the history refuses to run while
it is (``check_no_interrupted_squash``) and names the ways out that lose nothing, as steps to follow.
"""

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..cache.files import write_whole
from ..errors import MakemigrationsError, MigrationError, UsageError, disk_error, shown_path
from .git import GitError, git
from .staging import Staging

#: The journal of a swap in progress, in the migrations directory.
JOURNAL = ".squash-in-progress.json"
#: What each task that swaps calls the revision it publishes.
_MADE_BY = {"squash": "squashed", "rebase": "rebased"}
#: Where the removed files are kept outside git, in the migrations directory.
BACKUPS = ".squashed"


@dataclass(frozen=True)
class Swapped:
    path: Path  # the squashed revision, in the project
    removed: list[Path]
    backup: Path | None  # the folder holding copies of the removed files (outside git)


def check_removable(files: list[Path]) -> bool:
    """Whether the files need a backup (they are not in a git work tree); refuse files git does not
    keep as they are (untracked, or changed since the last commit): the squash would lose them."""
    if not _in_git_work_tree(files[0].parent):
        return True
    untracked, modified = _not_kept_by_git(files)
    if untracked:
        raise UsageError(
            f"git does not track {', '.join(map(shown_path, untracked))}, which the squash would remove: "
            "commit them first"
        )
    if modified:
        raise UsageError(
            f"{', '.join(map(shown_path, modified))} changed since the last commit, which the squash would "
            "lose: commit first"
        )
    return False


def needs_backup(files: list[Path]) -> bool:
    """Whether git cannot give ``files`` back as they are (outside a work tree, untracked, or changed
    since the last commit), so a swap that removes them copies them first: ``rebase`` removes this
    branch's revisions, which may not be committed yet (they are this branch's all the same)."""
    return not _in_git_work_tree(files[0].parent) or any(_not_kept_by_git(files))


def _not_kept_by_git(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """The files of a git work tree that git does not track, and those changed since the last commit."""
    folder = files[0].parent
    untracked = [
        path for path in files if _git(folder, "ls-files", "--error-unmatch", "--", str(path)) is None
    ]
    top = Path(_git(folder, "rev-parse", "--show-toplevel") or folder)
    status = _git(folder, "status", "--porcelain", "-z", "--", *map(str, files)) or ""
    changed = {(top / entry[3:]).resolve() for entry in status.split("\0") if entry}
    return untracked, [path for path in files if path.resolve() in changed and path not in untracked]


def swap(
    staging: Staging, staged_file: Path, files: list[Path], backup: bool, task: str = "squash"
) -> Swapped:
    """Publish the new revision and remove ``files`` (copied to a backup folder first if
    ``backup``); to be called with interruptions ignored (``uninterrupted``). ``task`` (squash,
    rebase) is what the journal says was interrupted.

    The order makes every state a kill can leave recoverable: the copies are made and synced before
    the journal exists (until then the history is untouched), so a journal means every file to
    remove is kept; the new file then appears in one step (it replaces an old file of its name
    atomically); only then do the old files go, and last the journal."""
    journal = staging.project_dir / JOURNAL
    target = staging.project_path(staged_file)
    folder = staging.project_dir / BACKUPS / time.strftime("%Y%m%d-%H%M%S") if backup else None
    try:
        record = {
            "task": task,
            "new": str(target),
            "sha256": _sha256(staged_file),
            "removed": [str(path) for path in files],
            "backup": str(folder) if folder else None,
        }
        if folder is not None:
            _copy_synced(files, folder, staging.project_dir.parent)
        write_whole(journal, json.dumps(record, indent=2))
        _synced(journal)
        _synced(journal.parent)
    except OSError as exc:
        _abandon(journal, folder)
        raise disk_error(
            f"keeping the revisions the {task} replaces in",
            exc,
            path=folder or journal,
            then="; nothing was changed",
        ) from None
    same_name = any(path.resolve() == target.resolve() for path in files)
    try:
        published = staging.publish(staged_file, replace=same_name)
        _synced(published)
        for path in files:
            if path.resolve() != published.resolve():
                path.unlink()
        journal.unlink()
    except (OSError, MakemigrationsError) as exc:
        if _sha256_or_none(target) != record["sha256"]:  # not in place: nothing was removed either
            _abandon(journal, folder)
            if isinstance(exc, OSError):
                raise disk_error("writing", exc, path=target, then="; nothing was changed") from None
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MigrationError(f"the {task} stopped halfway ({reason}); {interrupted(journal)}") from None
    return Swapped(published, files, folder)


def _copy_synced(files: list[Path], folder: Path, root: Path) -> None:
    """Each file copied under ``folder`` at its path below ``root``, on the disk with its folders."""
    for path in files:
        kept = folder / _relative(path, root)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, kept)
        _synced(kept)
    for synced_folder in {folder.parent, *(path.parent for path in folder.rglob("*"))}:
        _synced(synced_folder)


def _abandon(journal: Path, folder: Path | None) -> None:
    """Take back what a swap that changed no revision file wrote: its journal and its copies."""
    journal.unlink(missing_ok=True)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _relative(path: Path, root: Path) -> Path:
    """Where a copy goes in the backup: as in the project, so same-named files of two folders stay
    apart (a folder outside the project's by its absolute path)."""
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return Path(*path.resolve().parts[1:])


def _synced(path: Path) -> None:
    """On the disk before the originals go, whatever a power cut does (a folder: its entries)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def check_no_interrupted_squash(migrations_dir: Path) -> None:
    """Refuse to run on a history whose squash was cut short, saying how to go back or finish it."""
    journal = migrations_dir / JOURNAL
    if journal.is_file():
        raise MigrationError(interrupted(journal))


def interrupted(journal: Path) -> str:
    """What the journal of a squash or rebase cut short says to do: each way out as steps to follow in order.

    Going back is always offered, and restores what was removed already; finishing only once the
    new file is in place (its bytes are the journal's), since a journal means every file to remove
    is kept (in git, or copied and synced before the journal was written)."""
    try:
        record = json.loads(journal.read_text())
        task = record.get("task", "squash")  # journals written before rebase existed name none
        made = _MADE_BY[task]  # a task this version does not know: not a journal it can read
        new, digest, removed, backup = (
            Path(record["new"]),
            record["sha256"],
            [Path(path) for path in record["removed"]],
            None if record["backup"] is None else Path(record["backup"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return (
            f"{shown_path(journal)} is left by an interrupted squash or rebase and cannot be read: check the "
            "history by hand, then remove it"
        )
    in_place = new.is_file() and _sha256_or_none(new) == digest
    gone = [path for path in removed if not path.exists() or (in_place and path.resolve() == new.resolve())]
    left = [path for path in removed if path not in gone]
    back = [f"remove {shown_path(new)}"] if in_place else []
    if gone:
        back.append(_restoring(gone, backup))
    if backup is not None and backup.exists():
        back.append(f"remove {shown_path(backup)}")
    back.append(f"remove {shown_path(journal)}")
    going_back = f"to go back, {', then '.join(back)}"
    if not in_place:
        where = f"a {task} was interrupted ({shown_path(journal)}) before the {made} revision was in place"
        return f"{where}, so it cannot be finished: {going_back}"
    finish = [f"remove {', '.join(map(shown_path, left))}"] if left else []
    finish.append(f"remove {shown_path(journal)}")
    finishing = f"to finish it, {', then '.join(finish)}"
    return f"a {task} was interrupted ({shown_path(journal)}): {going_back}; {finishing}"


def _restoring(gone: list[Path], backup: Path | None) -> str:
    """The step that brings removed files back: from their copies (each at its path in the project
    inside the backup folder), or from git's last commit."""
    if backup is not None:
        return f"copy {', '.join(map(shown_path, gone))} back from {shown_path(backup)}"
    return f"run 'git checkout HEAD -- {' '.join(map(shown_path, gone))}'"


def _sha256_or_none(path: Path) -> str | None:
    try:
        return _sha256(path)
    except OSError:
        return None


def _in_git_work_tree(folder: Path) -> bool:
    return _git(folder, "rev-parse", "--is-inside-work-tree") == "true"


def _git(folder: Path, *args: str) -> str | None:
    """git's output in ``folder``, or None if it failed (or git is not installed)."""
    try:
        return os.fsdecode(git(folder, *args, timeout=30)).rstrip("\n")
    except GitError:
        return None
