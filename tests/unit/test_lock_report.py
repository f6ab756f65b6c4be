"""The lock report and its findings (``checks/locks/``) on statements built by hand: what is shown
beside an operation, and which patterns are findings (measured on a real server in
tests/servers/test_locks.py)."""

import pytest

from flask_makemigrations.checks.locks.findings import lock_findings
from flask_makemigrations.checks.locks.report import Lock, LockReport, Statement

pytestmark = pytest.mark.version_independent

EXCLUSIVE = Lock("post", "ACCESS EXCLUSIVE", ("reads", "writes"))
SHARE = Lock("post", "SHARE", ("writes",))
VALIDATING = Lock("post", "SHARE UPDATE EXCLUSIVE", ())
COLUMN, INDEX = "+ column post.views", "+ index ix_post_views on post"


def statement(sql: str, operation: str | None = None, **measured: object) -> Statement:
    fields: dict[str, object] = {"in_transaction": True, "lock_timeout": "0", "elapsed": 0.001, **measured}
    return Statement(sql, operation, **fields)  # type: ignore[arg-type]


def test_a_scan_under_a_lock_taken_before_says_so_and_is_one_finding_with_the_timeout() -> None:
    """The index took no lock of its own (the column's is stronger), so it is shown scanning under
    it; its finding names that lock; one lock_timeout finding for the revision."""
    report = LockReport(
        [
            statement(
                "ALTER TABLE post ADD COLUMN views INTEGER", COLUMN, locks=(EXCLUSIVE,), held=(EXCLUSIVE,)
            ),
            statement(
                "CREATE INDEX ix_post_views ON post (views)", INDEX, scanned=("post",), held=(EXCLUSIVE,)
            ),
        ],
        measured=True,
    )
    assert report.beside(COLUMN) == (
        ": ACCESS EXCLUSIVE lock on post (blocks reads and writes) until the revision commits"
    )
    assert report.beside(INDEX) == ": scanned post (under the ACCESS EXCLUSIVE lock taken before)"
    found = lock_findings(report)
    assert [finding.kind for finding in found] == ["index_not_concurrent", "lock_timeout_missing"]
    assert found[0].startswith("index ix_post_views on post is built under the ACCESS EXCLUSIVE lock on post")
    assert found[0].fields["lock"] == "ACCESS EXCLUSIVE"


def test_safe_forms_are_no_finding() -> None:
    """NOT VALID, a validation that blocks neither reads nor writes, an index built outside the
    transaction, a lock_timeout, a new table's foreign key: nothing to warn about."""
    report = LockReport(
        [
            statement("SET lock_timeout = '5s'", lock_timeout="5s"),
            statement(
                "ALTER TABLE post ADD CONSTRAINT fk FOREIGN KEY(editor_id) REFERENCES user (id) NOT VALID",
                locks=(Lock("post", "SHARE ROW EXCLUSIVE", ("writes",)),),
                held=(Lock("post", "SHARE ROW EXCLUSIVE", ("writes",)),),
                lock_timeout="5s",
            ),
            statement("ALTER TABLE post VALIDATE CONSTRAINT fk", in_transaction=False, lock_timeout="5s"),
            statement(
                "CREATE INDEX CONCURRENTLY ix ON post (views)", in_transaction=False, lock_timeout="5s"
            ),
            statement(
                "CREATE TABLE tag (id INTEGER, user_id INTEGER REFERENCES user (id))",
                locks=(Lock("user", "SHARE ROW EXCLUSIVE", ("writes",)),),
            ),
        ],
        measured=True,
    )
    assert lock_findings(report) == []
    assert report.beside("+ foreign key fk on post") == ""  # no operation ran those: hand-written SQL
