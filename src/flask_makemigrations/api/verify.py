"""``verify`` and ``locks``: the whole history checked on a shadow database, and what revisions lock
on PostgreSQL."""

from ..checks.locks.history import reported as lock_report
from ..checks.locks.history import revisions_in, start_of
from ..checks.locks.report import LockReport
from ..checks.new_revision import Databases
from ..checks.whole_history import Verified, check_history
from ..run.run import open_run
from ..run.session import QUIET, Project, Runtime
from .steps import against_ref, check_measured


def verify_history(
    project: Project, runtime: Runtime = QUIET, against: str | None = None, locks: bool = False
) -> Verified:
    """Check the whole history on a shadow database: the stairway, the head against the models, base;
    with ``against`` (a git ref), the history merged with that ref's too; with ``locks``, what each
    revision locks (a PostgreSQL shadow database's, ``checks/locks/``)."""
    if locks:
        check_measured(project.database, "verify --locks")
    with open_run(project, runtime) as run:
        merged = against_ref(run, against)
        with run.migrating() as migrated:
            made_while_loading = run.session.made_while_loading
            verified = check_history(
                run.models_databases, run.history, made_while_loading, runtime.progress, locks
            )
        verified.notes, verified.against = run.notes + migrated + verified.notes, merged
        return verified


def revision_locks(
    project: Project, revisions: str | None = None, runtime: Runtime = QUIET
) -> list[LockReport]:
    """What existing revisions lock on a PostgreSQL shadow database (``locks``): the history applied up
    to the first one's parents, then each of ``revisions`` (one, ``START:END``, or the head) measured
    as it goes up."""
    check_measured(project.database, "locks")
    with open_run(project, runtime) as run, run.migrating():
        history = run.history
        scripts = revisions_in(history, revisions)
        for parent in start_of(scripts):
            history.upgrade(parent, runtime.progress)
        databases = Databases.of(history)
        reports = []
        for script in scripts:
            report = lock_report(history, script)
            with databases.measured(report, {}):
                history.upgrade(script.revision)
            reports.append(report)
        return reports
