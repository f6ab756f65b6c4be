"""Library versions below the supported floor: one line naming what was found and what is needed.

``pip install --no-deps`` lets an old library in beside the tool; a real old release is installed
into a folder of its own and put first on the run's ``PYTHONPATH``.
"""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import REPO, ProjectCopy

from flask_makemigrations.run.requirements import floors, release

pytestmark = pytest.mark.version_independent  # see noxfile.py


def installed_alone(tmp_path_factory: pytest.TempPathFactory, requirement: str) -> Path:
    """``requirement`` installed without its dependencies into a folder to put on ``PYTHONPATH``."""
    folder = tmp_path_factory.mktemp("old-library")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder), requirement],
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture(scope="module")
def old_alembic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alembic 1.8.1, the release before the floor (1.9)."""
    return installed_alone(tmp_path_factory, "alembic==1.8.1")


@pytest.fixture(scope="module")
def old_sqlalchemy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SQLAlchemy 1.3.24, which the installed Alembic cannot even be imported with."""
    return installed_alone(tmp_path_factory, "sqlalchemy==1.3.24")


#: Every front end, with the main job's arguments (--check).
FRONT_ENDS = {
    "invoke": None,
    "python -m": [sys.executable, "-m", "flask_makemigrations"],
    "flask": [str(Path(sys.executable).parent / "flask"), "makemigrations"],
}


@pytest.mark.parametrize("task", [["makemigrations", "--check"], ["verify"], ["cache"]])
def test_an_alembic_below_the_floor_is_named_in_one_line(
    project: ProjectCopy, old_alembic: Path, task: list[str]
) -> None:
    error = project.refuses(*task, env={"PYTHONPATH": str(old_alembic)})

    assert error == (
        "Error: alembic 1.8.1 is installed, but flask-makemigrations needs alembic>=1.9: "
        "pip install 'alembic>=1.9'"
    )


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_an_sqlalchemy_alembic_cannot_import_is_named_in_one_line_by_every_front_end(
    project: ProjectCopy, old_sqlalchemy: Path, front: str
) -> None:
    """The version check comes before anything that imports the libraries, in every front end (under
    ``flask``, before the command looks for an app Flask already loaded)."""
    command = FRONT_ENDS[front] or project.invoke_command("makemigrations")
    env = {"PYTHONPATH": str(old_sqlalchemy)}

    error = project.refuses_command([*command, "--check"], env=env)
    as_json = project.run([*command, "--check", "--format", "json"], env=env)

    assert error == (
        "Error: sqlalchemy 1.3.24 is installed, but flask-makemigrations needs sqlalchemy>=1.4.46: "
        "pip install 'sqlalchemy>=1.4.46'"
    )
    assert as_json.returncode == 2, as_json.stderr
    assert json.loads(as_json.stdout)["error"]["kind"] == "UnsupportedLibraryError"


def test_the_floors_are_the_lower_bounds_in_pyproject() -> None:
    """Read from the installed package's metadata, so pyproject.toml is the one place they live."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert floors() == dict(requirement.split(">=") for requirement in dependencies)
    assert release("1.4.0b1") < release("1.4.46") < release("2.0") == (2, 0)
