"""What ``makemigrations`` is asked to do, validated once, as it is made, for every front end.

A run writes the new revision, only checks for pending changes, or prints the script it would write:
one :class:`Mode`, not exclusive booleans that each caller would have to reconcile. The rules on the
rest (a message to write with, a revision id Alembic can address) hold whichever front end asks.
"""

from dataclasses import dataclass
from enum import Enum

from alembic.script.revision import Revision, RevisionError

from .errors import UsageError
from .revisions.driver import unusable_rev_id


class Mode(Enum):
    WRITE = "write"  # write the new revision into the project
    CHECK = "check"  # write nothing; say whether (and which) operations are pending
    DRY_RUN = "dry run"  # write nothing; hand back the script that would be written

    @classmethod
    def from_flags(cls, check: bool = False, dry_run: bool = False) -> "Mode":
        """The mode two command-line flags ask for; both at once is a usage error."""
        if check and dry_run:
            raise UsageError("--check and --dry-run cannot be combined")
        return cls.CHECK if check else cls.DRY_RUN if dry_run else cls.WRITE

    @property
    def writes(self) -> bool:
        return self is Mode.WRITE


@dataclass(frozen=True)
class Request:
    """One ``makemigrations`` run's wishes; refuses, as it is made, what cannot work together."""

    mode: Mode = Mode.WRITE
    message: str | None = None
    empty: bool = False  # a blank revision, for a hand-written data migration
    rev_id: str | None = None  # instead of a random id
    verify: bool = True  # apply, compare, downgrade and apply the new revision on the shadow database
    strict: bool = False  # any warning is an error
    use_cache: bool = True  # start from the deepest cached snapshot of the shadow database
    against: str | None = None  # a git ref whose history, merged with this one, must keep one head
    safe: bool = False  # the revision in the forms that do not block production (PostgreSQL)

    def __post_init__(self) -> None:
        if self.empty and self.mode is Mode.CHECK:
            raise UsageError("--empty and --check cannot be combined")
        if self.against is not None and self.mode is not Mode.CHECK:
            raise UsageError("--against goes with --check (or with verify): it checks, it writes nothing")
        if self.mode.writes and not (self.message and self.message.strip()):
            raise UsageError('a message is required: --message "what changed"')
        if self.rev_id is not None:
            check_rev_id(self.rev_id)
        if self.safe and not self.verify:
            raise UsageError(
                "--safe and --no-verify cannot be combined: the rewritten revision is proven by its "
                "lock report"
            )

    @property
    def title(self) -> str:
        """The revision's message: what the user gave, else what a check or dry run shows."""
        return (self.message or "").strip() or "pending changes"


def check_rev_id(rev_id: str) -> None:
    """Our rules (no symbol Alembic would misread, no path) and Alembic's own."""
    problem = unusable_rev_id(rev_id)
    if problem:
        raise UsageError(f"--rev-id {rev_id!r}: {problem}")
    try:
        Revision.verify_rev_id(rev_id)
    except RevisionError as exc:
        raise UsageError(f"--rev-id {rev_id!r}: {exc}") from None
