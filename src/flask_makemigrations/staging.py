"""A staging copy of the migrations directory, and the one step that publishes from it.

Alembic writes the new revision (and runs post-write hooks) in the copy, so nothing reaches the
project until the run has succeeded: no half-written file, and an error leaves the project as it was.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import MigrationError, UsageError


@dataclass
class Staging:
    project_dir: Path
    staged_dir: Path
    before: frozenset

    @classmethod
    def copy(cls, project_dir: Path, workdir: Path) -> "Staging":
        if not (project_dir / "env.py").is_file():
            raise MigrationError(
                f"{project_dir} is not a migrations directory (no env.py): run 'flask db init' "
                "or pass --directory"
            )
        staged_dir = workdir / "migrations"
        shutil.copytree(project_dir, staged_dir, ignore=shutil.ignore_patterns("__pycache__"))
        return cls(project_dir, staged_dir, frozenset(_python_files(staged_dir)))

    def project_path(self, staged_path) -> Path:
        """Where a staged file is (or will be) in the project, for messages and publishing."""
        staged_path = Path(staged_path)
        try:
            return self.project_dir / staged_path.resolve().relative_to(self.staged_dir.resolve())
        except ValueError:
            return staged_path

    def new_files(self) -> list[Path]:
        return [self.staged_dir / p for p in sorted(set(_python_files(self.staged_dir)) - self.before)]

    def check_versions_inside(self, versions_dir) -> None:
        try:
            Path(versions_dir).resolve().relative_to(self.staged_dir.resolve())
        except ValueError:
            raise UsageError(
                f"version_locations points outside the migrations directory ({versions_dir}), "
                "which is not supported"
            ) from None

    def publish(self, staged_file: Path) -> Path:
        """Copy one new file into the project, never over an existing one, never half-written."""
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


def _python_files(directory: Path) -> list[Path]:
    return [p.relative_to(directory) for p in directory.rglob("*.py") if "__pycache__" not in p.parts]
