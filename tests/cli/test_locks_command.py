"""The ``locks`` task in each front end: its revision is given without a flag (``invoke locks REV``,
``python -m flask_makemigrations locks REV``), and without a PostgreSQL shadow database it is refused
in one line, before any work (what it reports is measured on a real server in
tests/servers/test_locks.py)."""

import sys

import pytest
from conftest import ProjectCopy

pytestmark = pytest.mark.version_independent

NOT_POSTGRESQL = (
    "Error: locks: the lock report is PostgreSQL's; give --database a PostgreSQL server's URL "
    "(postgresql://user:password@host/dbname)"
)


def test_locks_takes_its_revision_as_an_argument_and_needs_postgresql(project: ProjectCopy) -> None:
    assert project.refuses("locks", "0002_posts") == NOT_POSTGRESQL
    python_m = [sys.executable, "-m", "flask_makemigrations", "locks", "0001_users:0002_posts"]
    assert project.refuses_command(python_m) == NOT_POSTGRESQL
