"""Where a run writes: a staging folder for the new revision, and the one step that publishes it.

Alembic writes the new revision (and runs post-write hooks on it) in the staging folder, inside the
run's private temporary directory, so nothing reaches the project until the run has succeeded: no
half-written file, and an error leaves the project as it was. Beside it lies a copy of the
migrations directory's own files (``env.py``, ``alembic.ini``, ``script.py.mako``); the project's
revision files are read where they are, as ``flask db`` reads them, so Python's compiled copies of
them are reused instead of every revision being compiled again on every run.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from .errors import MigrationError


@dataclass
class Staging:
    project_dir: Path  # the project's migrations directory
    staged_dir: Path  # the copy Alembic runs from
    versions: Path  # the staging folder: new revisions only
    version_locations: list  # the project's revision folders; new revisions go to the first

    @classmethod
    def copy(cls, project_dir: Path, workdir: Path) -> "Staging":
        if not (project_dir / "env.py").is_file():
            raise MigrationError(
                f"{project_dir} is not a migrations directory (no env.py): run 'flask db init' "
                "or pass --directory"
            )
        staged_dir = workdir / "migrations"
        shutil.copytree(project_dir, staged_dir, ignore=shutil.ignore_patterns("__pycache__", "versions"))
        versions = workdir / "new-revisions"
        versions.mkdir()
        return cls(project_dir, staged_dir, versions, _version_locations(project_dir))

    def project_path(self, path) -> Path:
        """Where a file is in the project, for messages: staged ones are shown where they will be."""
        path = Path(path)
        if path.parent.resolve() == self.versions.resolve():
            return self.version_locations[0] / path.name
        try:
            return self.project_dir / path.resolve().relative_to(self.staged_dir.resolve())
        except ValueError:
            return path

    def new_files(self) -> list[Path]:
        return sorted(self.versions.glob("*.py"))

    def publish(self, staged_file: Path) -> Path:
        """Copy one new file into the project: never over an existing file, never half-written."""
        target = self.project_path(staged_file)
        # Alembic creates the folder it writes into (versions/ is missing from a fresh clone of a
        # project whose history is still empty: git keeps no empty folder); so does publishing.
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        shutil.copyfile(staged_file, temporary)
        try:
            os.link(temporary, target)  # fails if the target exists: nothing is overwritten
        except FileExistsError:
            raise MigrationError(f"{target} already exists; nothing was written") from None
        finally:
            temporary.unlink(missing_ok=True)
        return target


def _version_locations(project_dir: Path) -> list:
    """The project's revision folders as Alembic reads them (``version_locations``, else versions/)."""
    config = Config(str(project_dir / "alembic.ini"))
    config.set_main_option("script_location", str(project_dir))
    locations = ScriptDirectory.from_config(config).version_locations
    return [Path(os.path.abspath(location)) for location in locations or [project_dir / "versions"]]
