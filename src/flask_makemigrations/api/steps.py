"""Steps more than one task takes."""

from ..checks.branches import Against, check_against
from ..errors import UsageError
from ..revisions.driver import History
from ..run.run import Run
from ..shadow.backends import parse_database
from ..shadow.backends.postgresql import PostgreSQL


def against_ref(run: Run, ref: str | None) -> Against | None:
    """The run's history merged with the one the git ref ``ref`` has, if one was given."""
    return None if ref is None else check_against(run.history, run.session.shadow.workdir / "against", ref)


def check_measured(database: str | None, option: str) -> None:
    """What a revision locks is measured on PostgreSQL only: ``option`` needs such a shadow database."""
    if not isinstance(parse_database(database), PostgreSQL):
        raise UsageError(
            f"{option}: the lock report is PostgreSQL's; give --database a PostgreSQL server's URL "
            "(postgresql://user:password@host/dbname)"
        )


def check_rev_id_is_new(rev_id: str | None, history: History) -> None:
    """``--rev-id`` must name a revision the history does not have yet: one error line, before any work."""
    if rev_id is not None and any(script.revision == rev_id for script in history.script.walk_revisions()):
        raise UsageError(f"--rev-id {rev_id!r}: revision {rev_id} already exists")
