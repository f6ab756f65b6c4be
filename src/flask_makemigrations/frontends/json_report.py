"""``--format json``: the same report with stdout replaced by one JSON object, for CI tools.

stderr keeps its lines for people (warnings, notes, the ``Error:`` line) and the exit status does not
change; stdout holds only the object. Its keys are documented in README ("JSON output") and versioned
by ``format``: a key may be added within a version, none removed or changed in meaning.
Standard library only, like ``report``.
"""

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from ..checks.locks.findings import history_findings
from ..checks.locks.report import as_entries, revision_entries
from ..errors import (
    MakemigrationsError,
    Spelling,
    StrictError,
    UnansweredQuestionError,
    attached_advice,
    shown_path,
)
from ..findings import as_entry
from . import report

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..api import Result
    from ..checks.branches import Against, Placed
    from ..checks.locks.report import LockReport
    from ..checks.whole_history import Verified
    from ..questioner import Question

FORMAT = 1

_STATUS_OF_EXIT = {
    report.INTERRUPTED: "interrupted",
    report.TERMINATED: "terminated",
    report.UNANSWERED: "unanswered",
}


def as_json(shown: report.Report, payload: dict[str, Any]) -> report.Report:
    payload = {"format": FORMAT, **payload, "exit_status": shown.status}
    return replace(shown, stdout=[json.dumps(payload, indent=2)])


def of_makemigrations(result: "Result", dry_run: bool, spelling: Spelling) -> dict[str, Any]:
    built = result.built
    return {
        "command": "makemigrations",
        "status": report.outcome(result, dry_run),
        "operations": [as_entry(line, "line", spelling) for line in result.operations],
        "warnings": [as_entry(warning, spelling=spelling) for warning in result.warnings],
        "differences": [as_entry(difference, spelling=spelling) for difference in result.differences],
        "notes": [note.render(spelling) for note in result.notes],
        "path": shown_path(result.path) if result.path else None,
        "revision": result.revision,
        "script": result.script if dry_run else None,
        "shadow": {"applied": built.applied, "restored": built.restored} if built else None,
        "questions": _questions(result.questions),
        "against": _against(result.against),
        "locks": as_entries(result.locks),
        "error": None,
    }


def _questions(questions: "Iterable[Question]") -> list[dict[str, str]]:
    """What no one answered: its kind, the question, and the option that answers it up front."""
    return [{"kind": q.kind, "question": q.text, "option": q.option} for q in questions]


def _against(against: "Against | None") -> dict[str, Any] | None:
    """``--against``'s answer: the merged history's heads, and the tables both sides change."""
    if against is None:
        return None
    return {
        "ref": against.ref,
        "heads": [{**_placed(head), "side": head.side} for head in against.heads],
        "conflicts": [
            {
                "table": conflict.table,
                **({"bind": conflict.bind} if conflict.bind else {}),
                "this_branch": [_placed(placed) for placed in conflict.this_branch],
                "target": [_placed(placed) for placed in conflict.target],
            }
            for conflict in against.conflicts
        ],
    }


def _placed(placed: "Placed") -> dict[str, str]:
    return {"revision": placed.revision, "path": placed.path}


def of_verify(verified: "Verified", seconds: float, spelling: Spelling) -> dict[str, Any]:
    found = verified.against.findings if verified.against is not None else []
    return {
        "command": "verify",
        "status": report.BRANCH_CONFLICT if found else "verified",
        "revisions": verified.revisions,
        "seconds": round(seconds, 3),
        "warnings": [
            as_entry(warning, spelling=spelling)
            for warning in [*found, *history_findings(verified.locks or [])]
        ],
        "notes": [note.render(spelling) for note in verified.notes],
        "against": _against(verified.against),
        "locks": revision_entries(verified.locks),
        "error": None,
    }


def of_locks(reports: "list[LockReport]") -> dict[str, Any]:
    """``locks``: each revision's statements, and the patterns that block production."""
    return {
        "command": "locks",
        "status": "measured",
        "revisions": revision_entries(reports),
        "warnings": [as_entry(warning) for warning in history_findings(reports)],
        "error": None,
    }


#: Every key each command's object has, with its value when the run ended before it was known.
_UNKNOWN: dict[str, dict[str, Any]] = {
    "makemigrations": {
        "operations": [], "warnings": [], "differences": [], "notes": [],
        "path": None, "revision": None, "script": None, "shadow": None, "questions": [], "against": None,
        "locks": None,
    },
    "verify": {
        "revisions": None, "seconds": None, "warnings": [], "notes": [], "against": None, "locks": None,
    },
    "locks": {"revisions": None, "warnings": []},
}  # fmt: skip


def of_exception(
    exc: BaseException, shown: report.Report, command: str, spelling: Spelling
) -> dict[str, Any]:
    """What ended the run early: ``shown`` is its text report, whose closing line is the message.
    The object has the command's every key, with what the run found where it finished (``--strict``);
    what the cleanup left behind is a warning, as on stderr."""
    closing = shown.closing or ""
    message = closing.split(": ", 1)[1] if ": " in closing else closing
    next_step = getattr(exc, "next_step", None)
    left_behind = [
        {"kind": "left_behind", "message": advice.render(spelling)} for advice in attached_advice(exc)
    ]
    found: dict[str, Any] = dict(_UNKNOWN[command])
    warnings = [as_entry(warning, spelling=spelling) for warning in getattr(exc, "warnings", ())]
    if isinstance(exc, StrictError) and exc.result is not None:
        finished = of_makemigrations(cast("Result", exc.result), False, spelling)
        found = {key: finished[key] for key in found}
        warnings = finished["warnings"]
    if isinstance(exc, UnansweredQuestionError):
        found["questions"] = _questions(cast("list[Question]", exc.questions))
    return {
        "command": command,
        "status": _STATUS_OF_EXIT.get(shown.status, "error"),
        **found,
        "warnings": [*warnings, *left_behind],
        "error": {
            "kind": _kind(exc, shown.status),
            "message": message,
            "hint": spelling.get(next_step) if next_step is not None else None,
        },
    }


def _kind(exc: BaseException, status: int) -> str:
    """The error's class for the engine's own errors (``UsageError``, ``MigrationError``, ...)."""
    if isinstance(exc, MakemigrationsError | SystemExit):
        return type(exc).__name__
    return _STATUS_OF_EXIT.get(status, "unexpected")
