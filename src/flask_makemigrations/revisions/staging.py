"""Where a run writes: a staging folder for the new revision, and the one step that publishes it.

Alembic writes the new revision (and runs post-write hooks on it) in the staging folder, inside the
run's private temporary directory, so nothing reaches the project until the run has succeeded: no
half-written file, and an error leaves the project as it was. Beside it lies a copy of the
migrations directory's own files (``env.py``, ``alembic.ini``, ``script.py.mako`` and any other
module or template beside them); the project's revision files are read where they are, as
``flask db`` reads them, so Python's compiled copies of them are reused instead of every revision
being compiled again on every run. Nothing else is copied: an editor's lock file (often a dangling
link), a named pipe or a backup in the migrations directory is not part of the repository. Histories
that are not the project's as it is (what a squash keeps, ``without``; another git ref's files for
``--against``, ``beside``) are copies there too, mapped back to the project's folders for messages.
"""

import contextlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from alembic.config import Config
from alembic.script import ScriptDirectory

from ..errors import FileSystemError, MigrationError, disk_error, on_disk, shown_path
from ..run.signals import writing_the_project

#: What a migrations directory holds besides its revisions: env.py and its helpers, the ini, templates.
REPOSITORY_SUFFIXES = (".py", ".ini", ".mako")


@dataclass
class Staging:
    project_dir: Path  # the project's migrations directory
    staged_dir: Path  # the copy Alembic runs from
    versions: Path  # the staging folder: new revisions only
    version_locations: list[Path]  # the project's revision folders; new revisions go to the first
    #: For a history that leaves revisions out (``without``): each folder of copies -> the project's.
    origins: dict[Path, Path] = field(default_factory=dict)

    @classmethod
    def copy(cls, project_dir: Path, workdir: Path) -> "Staging":
        if not (project_dir / "env.py").is_file():
            raise MigrationError(
                f"{shown_path(project_dir)} is not a migrations directory (no env.py): run 'flask db init' "
                "or pass --directory"
            )
        if not (project_dir / "alembic.ini").is_file():
            raise MigrationError(
                f"{shown_path(project_dir / 'alembic.ini')} does not exist; every Flask-Migrate migrations "
                "directory has one ('flask db init' writes it)"
            )
        staged_dir, versions = workdir / "migrations", workdir / "new-revisions"
        sources = _repository_files(project_dir)
        try:
            staged_dir.mkdir()
            for source in sources:
                shutil.copyfile(source, staged_dir / source.name)
            versions.mkdir()
        except OSError as exc:  # the temporary folder's disk, not the project's files, is at fault
            raise disk_error("copying the migrations directory's files to", exc, path=staged_dir) from exc
        return cls(project_dir, staged_dir, versions, _version_locations(project_dir))

    def without(self, left_out: list[Path], workdir: Path) -> "Staging":
        """The same repository with a history that lacks ``left_out``: the project's other revision
        files copied into ``workdir`` (folder by folder), new revisions staged there too."""
        copies = workdir / "kept"
        origins: dict[Path, Path] = {}
        skipped = {path.resolve() for path in left_out}
        try:
            for number, location in enumerate(self.version_locations):
                copy = copies / str(number)
                copy.mkdir(parents=True)
                origins[copy] = location
                for source in location.rglob("*.py") if location.is_dir() else []:
                    if source.resolve() not in skipped and "__pycache__" not in source.parts:
                        target = copy / source.relative_to(location)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(source, target)
            versions = workdir / "squashed"
            versions.mkdir()
        except OSError as exc:
            raise disk_error("copying the revision files to", exc, path=copies) from exc
        return Staging(self.project_dir, self.staged_dir, versions, list(origins), origins)

    def beside(self, files: Mapping[Path, Mapping[PurePosixPath, bytes]], folder: Path) -> "Staging":
        """The same repository with another history: ``files`` (each of the project's revision folders
        -> the files it holds there, by their path inside it, and their bytes; ``--against`` reads
        them from git) written into ``folder``, folder by folder, new revisions staged there too."""
        origins: dict[Path, Path] = {}
        try:
            for number, location in enumerate(self.version_locations):
                copy = folder / str(number)
                copy.mkdir(parents=True)
                origins[copy] = location
                for relative, content in files.get(location, {}).items():
                    target = copy / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(content)
            versions = folder / "new-revisions"
            versions.mkdir()
        except OSError as exc:
            raise disk_error("writing the revision files to", exc, path=folder) from exc
        return Staging(self.project_dir, self.staged_dir, versions, list(origins), origins)

    def joined(self, other: "Staging") -> "Staging":
        """One repository with this history and ``other``'s (``beside``): both sets of revision
        folders, new revisions staged in ``other``'s folder."""
        locations = [*self.version_locations, *other.version_locations]
        return Staging(
            self.project_dir, self.staged_dir, other.versions, locations, {**self.origins, **other.origins}
        )

    def copy_path(self, path: Path) -> Path:
        """Where the project's revision file ``path`` goes among this history's copies (``without``):
        a rewritten revision stands in for the project's file there (``rebase``)."""
        for copy, origin in self.origins.items():
            with contextlib.suppress(ValueError):
                return copy / path.resolve().relative_to(origin.resolve())
        raise ValueError(f"{path} is in none of the revision folders")

    def project_path(self, path: str | os.PathLike[str]) -> Path:
        """Where a file is in the project, for messages: staged ones are shown where they will be."""
        path = Path(path)
        if path.parent.resolve() == self.versions.resolve():
            return self.target_folder / path.name
        for copy, origin in self.origins.items():
            with contextlib.suppress(ValueError):
                return origin / path.resolve().relative_to(copy.resolve())
        try:
            return self.project_dir / path.resolve().relative_to(self.staged_dir.resolve())
        except ValueError:
            return path

    def new_files(self) -> list[Path]:
        return sorted(self.versions.glob("*.py"))

    @property
    def target_folder(self) -> Path:
        """Where new revisions are published: the first of the project's revision folders."""
        first = self.version_locations[0]
        return self.origins.get(first, first)

    def check_writable(self) -> None:
        """Refuse before any work a revision folder that cannot be written (a read-only checkout)."""
        folder = self.target_folder
        while not folder.exists() and folder.parent != folder:
            folder = folder.parent  # publishing creates the missing part, as Alembic does
        if not os.access(folder, os.W_OK):
            reason = "it is on a read-only file system" if _read_only_mount(folder) else "permission denied"
            raise FileSystemError(f"cannot write a new revision to {shown_path(folder)}: {reason}")

    def publish(self, staged_file: Path, replace: bool = False) -> Path:
        """Copy one new file into the project: never half-written, and never over an existing file
        unless ``replace`` (a squash's file of the head's name: old or new, never neither)."""
        target = self.project_path(staged_file)
        temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        with writing_the_project():  # a signal from here on comes after the run (see signals.py)
            self._publish(staged_file, target, temporary, replace)
        return target

    def _publish(self, staged_file: Path, target: Path, temporary: Path, replace: bool) -> None:
        """The copy beside ``target`` and its link into place, the copy removed whatever happens."""
        try:
            # Alembic creates the folder it writes into (versions/ is missing from a fresh clone of a
            # project whose history is still empty: git keeps no empty folder); so does publishing.
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staged_file, temporary)
            if replace:
                os.replace(temporary, target)
            else:
                os.link(temporary, target)  # fails if the target exists: nothing is overwritten
        except FileExistsError:
            raise MigrationError(f"{shown_path(target)} already exists; nothing was written") from None
        except OSError as exc:
            raise disk_error("writing", exc, path=target, then="; nothing was written") from None
        finally:
            temporary.unlink(missing_ok=True)


def _repository_files(project_dir: Path) -> list[Path]:
    """The migrations directory's own files: regular files of the repository's kinds, not hidden,
    not an editor's backup (``env.py~``, ``#env.py#``); links are followed, dangling ones skipped."""
    with on_disk("reading the migrations directory"):
        entries = list(os.scandir(project_dir))
    return [
        Path(entry.path)
        for entry in entries
        if entry.name.endswith(REPOSITORY_SUFFIXES)
        and not entry.name.startswith((".", "#"))
        and entry.is_file()
    ]


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _version_locations(project_dir: Path) -> list[Path]:
    """The project's revision folders as Alembic reads them (``version_locations``, else versions/)."""
    config = Config(str(project_dir / "alembic.ini"))
    # Alembic's options go through ConfigParser, where a '%' would start an interpolation.
    config.set_main_option("script_location", str(project_dir).replace("%", "%%"))
    locations = ScriptDirectory.from_config(config).version_locations
    return [Path(os.path.abspath(location)) for location in locations or [str(project_dir / "versions")]]
