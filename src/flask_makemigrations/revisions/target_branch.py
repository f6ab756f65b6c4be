"""A target branch's revision files, read from git without checking it out (``--against REF``).

The branch is not checked out, nor is any file of the working tree touched: ``git ls-tree`` lists the
files under the project's revision folders at ``REF`` (each folder's path relative to the repository's
root), and one ``git cat-file --batch`` reads them all, so the cost does not grow with a process per
file. What this branch deleted since the two branches parted (a squash) stays deleted, as git's merge
would leave it: a file the target still has, unchanged since the merge base, that the working tree no
longer has. Every failure of git is one line: git not installed, no repository, no such ref.
"""

import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from ..errors import UsageError, shown_path

#: How long one git command may take (a repository on a slow network disk, say).
GIT_TIMEOUT = 60
#: What ``ls-tree`` calls a regular file, executable or not: links and submodules are no revisions.
_FILE_MODES = (b"100644", b"100755")

#: Each revision folder of the project -> its files at the ref: their paths inside it, and their bytes.
RefFiles = dict[Path, dict[PurePosixPath, bytes]]
#: The error a failed git command means, given git's own words.
_Failure = Callable[[str], UsageError]


def revision_files_at(ref: str, project_dir: Path, locations: list[Path]) -> RefFiles:
    """The ``.py`` files under ``locations`` (the project's revision folders, in the repository that
    holds ``project_dir``) as the commit ``ref`` names has them, less those this branch deleted."""
    if not ref.strip() or ref.startswith("-"):  # git would read it as an option
        raise _no_such_ref(ref)
    top = Path(_toplevel(project_dir))
    commit = _commit(top, ref)
    inside = {location: _inside(location, top) for location in locations}
    listed = _listed(top, commit, inside.values())
    base = _merge_base(top, commit)
    at_base = _listed(top, base, inside.values()) if base else {}
    kept = {
        path: blob
        for path, blob in listed.items()
        if not (at_base.get(path) == blob and not (top / path).exists())  # deleted on this branch
    }
    contents = _contents(top, kept.values())
    files: RefFiles = {location: {} for location in locations}
    for path, blob in kept.items():
        for location, relative in inside.items():
            if path.is_relative_to(relative):
                files[location][path.relative_to(relative)] = contents[blob]
                break
    return files


def _toplevel(project_dir: Path) -> str:
    def not_a_repository(message: str) -> UsageError:
        return UsageError(
            f"--against needs a git repository, and {shown_path(project_dir)} is in none: {message}"
        )

    return _git(project_dir, "rev-parse", "--show-toplevel", failed=not_a_repository).decode().strip()


def _commit(top: Path, ref: str) -> str:
    """The commit ``ref`` names (a branch, a remote's branch, a tag, an id)."""
    found = _git(
        top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", failed=lambda _: _no_such_ref(ref)
    )
    return found.decode().strip()


def _no_such_ref(ref: str) -> UsageError:
    return UsageError(
        f"--against {ref!r}: git knows no such branch, tag or commit here (a remote's branch is known "
        "once fetched: git fetch <remote> <branch>)"
    )


def _inside(location: Path, top: Path) -> PurePosixPath:
    """A revision folder's path from the repository's root, as git names paths."""
    try:
        return PurePosixPath(location.resolve().relative_to(top.resolve()).as_posix())
    except ValueError:
        raise UsageError(
            f"--against: the revision folder {shown_path(location)} is outside the git repository at "
            f"{shown_path(top)}"
        ) from None


def _listed(top: Path, commit: str, folders: Iterable[PurePosixPath]) -> dict[PurePosixPath, str]:
    """The revision files under ``folders`` at ``commit``: their paths from the root, and blob ids."""
    output = _git(top, "ls-tree", "-r", "-z", commit, "--", *map(str, folders))
    listed = {}
    for entry in filter(None, output.split(b"\0")):
        meta, _, name = entry.partition(b"\t")
        mode, kind, blob = meta.split(b" ")
        path = PurePosixPath(name.decode("utf-8", "surrogateescape"))
        if (
            mode in _FILE_MODES
            and kind == b"blob"
            and path.suffix == ".py"
            and "__pycache__" not in path.parts
        ):
            listed[path] = blob.decode()
    return listed


def _merge_base(top: Path, commit: str) -> str | None:
    """Where this branch and the target parted, or None (no commit yet, unrelated histories)."""
    try:
        return _git(top, "merge-base", "HEAD", commit).decode().strip() or None
    except UsageError:
        return None


def _contents(top: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """Each blob's bytes, read by one ``git cat-file --batch``."""
    wanted = sorted(set(blobs))
    if not wanted:
        return {}
    output = _git(top, "cat-file", "--batch", given="".join(f"{blob}\n" for blob in wanted).encode())
    contents, at = {}, 0
    for blob in wanted:
        header_end = output.index(b"\n", at)
        size = int(output[at:header_end].split(b" ")[2])
        contents[blob] = output[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1  # the content, then a newline
    return contents


def _git(folder: Path, *args: str, given: bytes = b"", failed: _Failure | None = None) -> bytes:
    """git's output in ``folder``; a failure is one line, ``failed``'s (given git's own words) or
    the command's with git's words."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, input=given, capture_output=True, timeout=GIT_TIMEOUT
        )
    except FileNotFoundError:
        raise UsageError(
            "--against reads the target branch with git, which is not installed (or not on PATH)"
        ) from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"--against: git {args[0]} did not answer within {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        said = " ".join(done.stderr.decode(errors="replace").split()) or f"exit status {done.returncode}"
        raise failed(said) if failed else UsageError(f"--against: git {args[0]} failed: {said}")
    return done.stdout
