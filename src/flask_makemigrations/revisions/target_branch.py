"""A target branch's revision files, read from git without checking it out (``--against REF``,
``rebase --onto REF``).

The branch is not checked out, nor is any file of the working tree touched: ``git ls-tree`` lists the
files under the project's revision folders at ``REF`` (each folder's path relative to the repository's
root), and one ``git cat-file --batch`` reads them all, so the cost does not grow with a process per
file. What this branch deleted since the two branches parted (a squash) stays deleted, as git's merge
would leave it: a file the target still has, unchanged since the merge base, that the working tree no
longer has. Every failure of git is one line: git not installed, no repository, no such ref.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import UsageError, shown_path
from .git import GitFailed, GitNotInstalled, GitTimedOut, git

#: How long one git command may take (a repository on a slow network disk, say).
GIT_TIMEOUT = 60
#: What ``ls-tree`` calls a regular file, executable or not: links and submodules are no revisions.
_FILE_MODES = (b"100644", b"100755")

#: The error a failed git command means, given git's own words.
_Failure = Callable[[str], UsageError]


@dataclass(frozen=True)
class RefFiles:
    """A ref's revision files, as they differ from the working tree's."""

    #: Each revision folder of the project -> the ref's files there that the working tree does not
    #: have byte for byte: their paths inside it, and their bytes.
    differing: dict[Path, dict[PurePosixPath, bytes]]
    #: The working tree's files that the ref has byte for byte: the same revisions on both sides.
    same: set[Path] = field(default_factory=set)


def revision_files_at(
    ref: str, project_dir: Path, locations: list[Path], option: str = "--against"
) -> RefFiles:
    """The ``.py`` files under ``locations`` (the project's revision folders, in the repository that
    holds ``project_dir``) as the commit ``ref`` names has them, less those this branch deleted;
    ``option`` (``--against``, ``--onto``) is what git's failures are told as.

    Only the files that differ from the working tree's are read: a file the working tree has byte
    for byte (its git object id says so) is the same revision on both sides, and a history shared up
    to where the branches parted costs no more than listing it."""
    if not ref.strip() or ref.startswith("-"):  # git would read it as an option
        raise _no_such_ref(ref, option)
    top = Path(_toplevel(project_dir, option))
    commit = _commit(top, ref, option)
    inside = {location: _inside(location, top, option) for location in locations}
    found = RefFiles({location: {} for location in locations})
    differing = {}
    for path, blob in _listed(top, commit, inside.values(), option).items():
        if _object_id(top / path, like=blob) == blob:
            found.same.add(_in_working_tree(path, inside))
        else:
            differing[path] = blob
    deleted = _deleted_here(top, commit, inside.values(), differing, option)
    kept = {path: blob for path, blob in differing.items() if path not in deleted}
    contents = _contents(top, kept.values(), option)
    for path, blob in kept.items():
        location = _location_of(path, inside)
        found.differing[location][path.relative_to(inside[location])] = contents[blob]
    return found


def _location_of(path: PurePosixPath, inside: dict[Path, PurePosixPath]) -> Path:
    """The project's revision folder that holds ``path`` (from the repository's root)."""
    return next(location for location, relative in inside.items() if path.is_relative_to(relative))


def _in_working_tree(path: PurePosixPath, inside: dict[Path, PurePosixPath]) -> Path:
    """Where ``path`` (from the repository's root) is in the working tree, named from the revision
    folder that holds it, as Alembic names the files it reads there (no link resolved)."""
    location = _location_of(path, inside)
    return location / path.relative_to(inside[location])


def _object_id(path: Path, like: str) -> str | None:
    """The id git gives ``path``'s bytes as a blob, in the format of ``like`` (SHA-1, or SHA-256 in
    a repository made with it); None if there is no such file."""
    try:
        content = path.read_bytes()
    except OSError:
        return None
    algorithm = "sha256" if len(like) == 64 else "sha1"
    return hashlib.new(algorithm, b"blob %d\0%s" % (len(content), content)).hexdigest()


def _deleted_here(
    top: Path,
    commit: str,
    folders: Iterable[PurePosixPath],
    differing: dict[PurePosixPath, str],
    option: str,
) -> set[PurePosixPath]:
    """The ref's files that this branch deleted: unchanged on the ref since the branches parted,
    gone from the working tree (a squash). git's merge deletes them too."""
    gone = [path for path in differing if not (top / path).exists()]
    base = _merge_base(top, commit, option) if gone else None
    if base is None:
        return set()
    at_base = _listed(top, base, folders, option)
    return {path for path in gone if at_base.get(path) == differing[path]}


def _toplevel(project_dir: Path, option: str) -> str:
    def not_a_repository(message: str) -> UsageError:
        return UsageError(
            f"{option} needs a git repository, and {shown_path(project_dir)} is in none: {message}"
        )

    found = _git(project_dir, "rev-parse", "--show-toplevel", option=option, failed=not_a_repository)
    return found.decode().strip()


def _commit(top: Path, ref: str, option: str) -> str:
    """The commit ``ref`` names (a branch, a remote's branch, a tag, an id)."""
    found = _git(
        top,
        "rev-parse",
        "--verify",
        "--quiet",
        f"{ref}^{{commit}}",
        option=option,
        failed=lambda _: _no_such_ref(ref, option),
    )
    return found.decode().strip()


def _no_such_ref(ref: str, option: str) -> UsageError:
    return UsageError(
        f"{option} {ref!r}: git knows no such branch, tag or commit here (a remote's branch is known "
        "once fetched: git fetch <remote> <branch>)"
    )


def _inside(location: Path, top: Path, option: str) -> PurePosixPath:
    """A revision folder's path from the repository's root, as git names paths."""
    try:
        return PurePosixPath(location.resolve().relative_to(top.resolve()).as_posix())
    except ValueError:
        raise UsageError(
            f"{option}: the revision folder {shown_path(location)} is outside the git repository at "
            f"{shown_path(top)}"
        ) from None


def _listed(
    top: Path, commit: str, folders: Iterable[PurePosixPath], option: str
) -> dict[PurePosixPath, str]:
    """The revision files under ``folders`` at ``commit``: their paths from the root, and blob ids."""
    output = _git(top, "ls-tree", "-r", "-z", commit, "--", *map(str, folders), option=option)
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


def _merge_base(top: Path, commit: str, option: str) -> str | None:
    """Where this branch and the target parted, or None (no commit yet, unrelated histories)."""
    try:
        return _git(top, "merge-base", "HEAD", commit, option=option).decode().strip() or None
    except UsageError:
        return None


def _contents(top: Path, blobs: Iterable[str], option: str) -> dict[str, bytes]:
    """Each blob's bytes, read by one ``git cat-file --batch``."""
    wanted = sorted(set(blobs))
    if not wanted:
        return {}
    asked = "".join(f"{blob}\n" for blob in wanted).encode()
    output = _git(top, "cat-file", "--batch", given=asked, option=option)
    contents, at = {}, 0
    for blob in wanted:
        header_end = output.index(b"\n", at)
        size = int(output[at:header_end].split(b" ")[2])
        contents[blob] = output[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1  # the content, then a newline
    return contents


def _git(folder: Path, *args: str, option: str, given: bytes = b"", failed: _Failure | None = None) -> bytes:
    """git's output in ``folder``; a failure is one line, ``failed``'s (given git's own words) or
    the command's with git's words, told as ``option``'s."""
    try:
        return git(folder, *args, given=given, timeout=GIT_TIMEOUT)
    except GitNotInstalled:
        raise UsageError(
            f"{option} reads the target branch with git, which is not installed (or not on PATH)"
        ) from None
    except GitTimedOut:
        raise UsageError(f"{option}: git {args[0]} did not answer within {GIT_TIMEOUT} s") from None
    except GitFailed as exc:
        raise (
            failed(exc.said) if failed else UsageError(f"{option}: git {args[0]} failed: {exc.said}")
        ) from None
