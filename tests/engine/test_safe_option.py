"""``--safe`` (``revisions/safe_forms.py``) is PostgreSQL's and needs verification: elsewhere it is
refused in one line, before any work, and nothing is left behind (its rewrite is measured on a real
server in tests/servers/test_locks.py)."""

import pytest
from conftest import ProjectCopy

pytestmark = pytest.mark.version_independent


def test_safe_needs_a_postgresql_shadow_database(project: ProjectCopy) -> None:
    project.add_email_column()
    assert project.engine_refuses(project.make_migrations, "email", safe=True) == (
        "--safe: the lock report is PostgreSQL's; give --database a PostgreSQL server's URL "
        "(postgresql://user:password@host/dbname)"
    )


def test_safe_needs_verification(project: ProjectCopy) -> None:
    assert project.engine_refuses(project.make_migrations, "email", safe=True, verify=False) == (
        "--safe and --no-verify cannot be combined: the rewritten revision is proven by its lock report"
    )
