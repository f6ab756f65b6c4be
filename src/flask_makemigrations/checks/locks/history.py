"""What revisions already in the history lock: each applied in turn on a PostgreSQL shadow database
and measured as it goes up (``capture.py``), for ``locks`` (Django's ``sqlmigrate``, with what it
cannot tell) and ``verify --locks``.
"""

from alembic.script import Script
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from ...errors import UsageError, shown_path
from ...revisions.driver import History
from .report import LockReport


def revisions_in(history: History, revisions: str | None) -> list[Script]:
    """The revisions ``revisions`` names, in the order they apply: one (a full or partial id), the
    revisions after ``START`` up to ``END`` (``START:END``, as Alembic's ranges read; ``base:END``
    from the first), or, with None, the head."""
    try:
        if revisions is None or ":" not in revisions:
            named: str = revisions or history.single_head() or "base"
            found = history.script.get_revision(named)
            return [found] if isinstance(found, Script) else []
        start, end = revisions.split(":", 1)
        walked = list(history.script.walk_revisions(start or "base", end or "heads"))
        first = history.script.get_revision(start) if start not in ("", "base") else None
    except (CommandError, RevisionError) as exc:  # walking raises the latter, unwrapped
        raise UsageError(f"locks {revisions}: {exc}") from None
    start = first.revision if isinstance(first, Script) else start  # a partial id, in full
    return [  # after START, which walk_revisions includes
        script for script in reversed(walked) if isinstance(script, Script) and script.revision != start
    ]


def reported(history: History, script: Script) -> LockReport:
    """An empty report for ``script``, named as the user finds it."""
    return LockReport(revision=script.revision, path=shown_path(history.staging.project_path(script.path)))


def start_of(scripts: list[Script]) -> list[str]:
    """What the shadow database is upgraded to before the first of ``scripts`` is measured: its
    parents (none from base)."""
    down = scripts[0].down_revision if scripts else None
    if down is None:
        return []
    return [down] if isinstance(down, str) else list(down)
