"""What the PostgreSQL and MariaDB tests share: runs against a server URL, their one-line refusals
(which never carry a password), a run held in its upgrade, and the id of a process that is gone."""

import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import loopback
import mariadb_server
import pg_cluster
from conftest import ProjectCopy, Run
from sqlalchemy.engine import URL

if TYPE_CHECKING:
    from flask_makemigrations import Result


class AServer(Protocol):
    """A running test server: the private PostgreSQL cluster, the MariaDB server, or either of them
    as the conformance suite holds it."""

    def url_string(self, **parts: Any) -> str: ...


def in_sqlalchemy_urls(password: str) -> str:
    """``password`` as this SQLAlchemy writes it in a URL: before 2.1 it leaves ``%`` unquoted."""
    rendered = URL.create("x", username="u", password=password).render_as_string(hide_password=False)
    return rendered.removeprefix("x://u:").removesuffix("@")


#: Every password the test servers know, as given, as a URL quotes it and as SQLAlchemy does, and a
#: wrong one.
SECRETS = tuple(
    {
        secret
        for password in (loopback.PASSWORD, pg_cluster.LIMITED_PASSWORD, pg_cluster.CREATEDB_PASSWORD,
                         mariadb_server.LIMITED_PASSWORD, "Wr0ng-secret")
        for secret in (password, quote(password, safe=""), in_sqlalchemy_urls(password))
    }
)  # fmt: skip


def assert_no_secret(result: Run) -> None:
    """Neither output of a real run shows a password the servers know."""
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr


def assert_one_line_error(result: Run, *fragments: str) -> None:
    """A real run that failed as a bad input must: status 2, one ``Error:`` line naming ``fragments``."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert_no_secret(result)


def make(
    project: ProjectCopy, server: AServer, message: str | None = None, url: str | None = None, **options: Any
) -> "Result":
    """The engine's ``make_migrations`` in this process, with the server's URL (or ``url``)."""
    return project.make_migrations(message, where={"database": url or server.url_string()}, **options)


def refused(
    project: ProjectCopy, server: AServer | None, *fragments: str, url: str | None = None, **options: Any
) -> str:
    """The engine's one-line error for a run with that URL; it names ``fragments``, never a secret."""
    if url is None:
        assert server is not None, "refused needs the server or a URL"
        url = server.url_string()
    error = project.engine_refuses(project.make_migrations, "x", where={"database": url}, **options)
    for fragment in fragments:
        assert fragment in error, error
    assert not any(secret in error for secret in SECRETS), error
    return error


def start_slow_upgrade(project: ProjectCopy, url: str, started: Path, sleep: str) -> subprocess.Popen[str]:
    """A real run whose upgrade begins (touching ``started``) and then takes minutes, one ``sleep``
    statement at a time; returned once it has begun (a wait, not a timing assertion)."""
    (project.versions / "0003_slow.py").write_text(
        "from pathlib import Path\n\nfrom alembic import op\n\n"
        "revision = '0003_slow'\ndown_revision = '0002_posts'\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n    Path({str(started)!r}).touch()\n"
        f"    for _ in range(3000):\n        op.execute({sleep!r})\n\n\n"
        "def downgrade():\n    pass\n"
    )
    return start_until(project, started, "makemigrations", "-m", "x", "--database", url)


def start_until(project: ProjectCopy, started: Path, *args: str) -> subprocess.Popen[str]:
    """A real ``invoke`` run, returned once it has touched ``started`` (a wait, not a timing assertion)."""
    process = project.start(*args)
    wait_until_touched(started, process)
    return process


def wait_until_touched(path: Path, process: subprocess.Popen[str]) -> None:
    """Wait until the running ``process`` has touched ``path`` (a wait, not a timing assertion)."""
    for _ in range(1200):
        if path.exists() or process.poll() is not None:
            break
        time.sleep(0.1)
    assert path.exists(), process.communicate()[1]


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped), so nothing answers to it."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
