"""Library versions below the supported floor: one line naming what was found and what is needed.

``pip install --no-deps`` lets an old library in beside the tool; a real old release is installed
into a folder of its own and put first on the run's ``PYTHONPATH``.
"""

import subprocess
import sys
import tomllib

import pytest
from conftest import REPO

from flask_makemigrations.run.requirements import floors, release

pytestmark = pytest.mark.version_independent  # see noxfile.py


@pytest.fixture(scope="module")
def old_alembic(tmp_path_factory):
    """Alembic 1.8.1, the release before the floor (1.9), as a folder to put on ``PYTHONPATH``."""
    folder = tmp_path_factory.mktemp("old-alembic")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(folder),
            "alembic==1.8.1",
        ],
        check=True,
        capture_output=True,
    )
    return folder


@pytest.mark.parametrize("task", [["makemigrations", "--check"], ["verify"], ["cache"]])
def test_an_alembic_below_the_floor_is_named_in_one_line(project, old_alembic, task):
    error = project.refuses(*task, env={"PYTHONPATH": str(old_alembic)})

    assert error == (
        "Error: alembic 1.8.1 is installed, but flask-makemigrations needs alembic>=1.9: "
        "pip install 'alembic>=1.9'"
    )


def test_the_floors_are_the_lower_bounds_in_pyproject():
    """Read from the installed package's metadata, so pyproject.toml is the one place they live."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert floors() == dict(requirement.split(">=") for requirement in dependencies)
    assert release("1.4.0b1") < release("1.4.46") < release("2.0") == (2, 0)
