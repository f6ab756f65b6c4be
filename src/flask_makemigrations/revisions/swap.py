"""Replacing the folded revision files by the squashed one, so that nothing is lost and an interrupted
swap is never mistaken for a history.

Before anything changes: in a git work tree every file to remove must be tracked and unchanged (git
keeps them); elsewhere each is copied into a backup folder first. The swap itself writes a journal
into the migrations directory, publishes the new file, removes the old ones and then the journal,
with Ctrl-C and SIGTERM ignored by the caller. Only a kill, a crash or a failing disk can stop it,
and then the journal is still there: every task that reads the history refuses to run while it is
(``check_no_interrupted_squash``) and names both ways out.
"""

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..cache_files import write_whole
from ..errors import MigrationError, UsageError, disk_error, shown_path
from .staging import Staging

#: The journal of a swap in progress, in the migrations directory.
JOURNAL = ".squash-in-progress.json"
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
    folder = files[0].parent
    if not _in_git_work_tree(folder):
        return True
    untracked = [
        path for path in files if _git(folder, "ls-files", "--error-unmatch", "--", str(path)) is None
    ]
    if untracked:
        raise UsageError(
            f"git does not track {', '.join(map(shown_path, untracked))}, which the squash would remove: "
            "commit them first"
        )
    top = Path(_git(folder, "rev-parse", "--show-toplevel") or folder)
    status = _git(folder, "status", "--porcelain", "-z", "--", *map(str, files)) or ""
    changed = {(top / entry[3:]).resolve() for entry in status.split("\0") if entry}
    modified = [path for path in files if path.resolve() in changed]
    if modified:
        raise UsageError(
            f"{', '.join(map(shown_path, modified))} changed since the last commit, which the squash would "
            "lose: commit first"
        )
    return False


def swap(staging: Staging, staged_file: Path, files: list[Path], backup: bool) -> Swapped:
    """Publish the squashed revision and remove ``files`` (copied to a backup folder first if
    ``backup``), under a journal; to be called with interruptions ignored (``uninterrupted``)."""
    journal = staging.project_dir / JOURNAL
    target = staging.project_path(staged_file)
    folder = staging.project_dir / BACKUPS / time.strftime("%Y%m%d-%H%M%S") if backup else None
    record = {
        "new": str(target),
        "removed": [str(path) for path in files],
        "backup": str(folder) if folder else None,
    }
    try:
        write_whole(journal, json.dumps(record, indent=2))
        if folder is not None:
            for path in files:
                kept = folder / _relative(path, staging.project_dir.parent)
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, kept)
                _synced(kept)
        _synced(journal)
    except OSError as exc:
        journal.unlink(missing_ok=True)
        raise disk_error(
            "keeping the squashed revisions in", exc, path=folder or journal, then="; nothing was changed"
        ) from None
    # A file named as the new one (a template without the message in it) goes first: the journal
    # and its copy (or git) keep it.
    same_name = [path for path in files if path.resolve() == target.resolve()]
    try:
        for path in same_name:
            path.unlink()
        published = staging.publish(staged_file)
        for path in files:
            if path not in same_name:
                path.unlink()
    except (OSError, MigrationError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MigrationError(f"the squash stopped halfway ({reason}); {interrupted(journal)}") from None
    journal.unlink()
    return Swapped(published, files, folder)


def _relative(path: Path, root: Path) -> Path:
    """Where a copy goes in the backup: as in the project, so same-named files of two folders stay
    apart (a folder outside the project's by its absolute path)."""
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return Path(*path.resolve().parts[1:])


def _synced(path: Path) -> None:
    """On the disk before the originals go, whatever a power cut does."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def check_no_interrupted_squash(migrations_dir: Path) -> None:
    """Refuse to run on a history whose squash was cut short, saying how to go back or finish it."""
    journal = migrations_dir / JOURNAL
    if journal.is_file():
        raise MigrationError(interrupted(journal))


def interrupted(journal: Path) -> str:
    """What the journal of a squash cut short says to do."""
    try:
        record = json.loads(journal.read_text())
        new, removed, backup = (
            Path(record["new"]),
            [Path(path) for path in record["removed"]],
            record["backup"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return (
            f"{shown_path(journal)} is left by an interrupted squash and cannot be read: check the history "
            "by hand, then remove it"
        )
    left = [path for path in removed if path.exists()]
    gone = len(removed) - len(left)
    where = f"from {shown_path(backup)}" if backup else "with 'git checkout'"
    back = f"and restore the {gone} removed revision(s) {where}" if gone else "(nothing was removed yet)"
    finish = ", ".join(map(shown_path, left)) or "nothing more"
    return (
        f"a squash was interrupted ({shown_path(journal)}): to go back, remove {shown_path(new)} {back}; "
        f"to finish it, remove {finish}; then remove {shown_path(journal)}"
    )


def _in_git_work_tree(folder: Path) -> bool:
    return _git(folder, "rev-parse", "--is-inside-work-tree") == "true"


def _git(folder: Path, *args: str) -> str | None:
    """git's output in ``folder``, or None if it failed (or git is not installed)."""
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.rstrip("\n") if done.returncode == 0 else None
