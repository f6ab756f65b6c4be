"""A finding: the sentence people read, what it is about for programs, and a hint each front end spells."""

import copy
import pickle

import pytest

from flask_makemigrations.errors import NextStep
from flask_makemigrations.findings import Finding, as_entry, extended, in_bind, rendered

pytestmark = pytest.mark.version_independent  # see noxfile.py

INVOKE = {NextStep.MERGE: "'invoke merge'"}


def test_a_finding_is_its_sentence_with_its_kind_and_objects() -> None:
    finding = Finding("column user.email is dropped", "column_dropped", objects=["user.email"], table=None)

    assert finding == "column user.email is dropped"
    assert finding.kind == "column_dropped"
    assert finding.fields == {"objects": ["user.email"]}  # a field that is None is not named
    assert as_entry(finding) == {
        "kind": "column_dropped",
        "objects": ["user.email"],
        "message": "column user.email is dropped",
    }


def test_a_hint_reads_neutrally_and_each_front_end_spells_it() -> None:
    finding = Finding("two heads: run {command} first", "heads", hint=NextStep.MERGE)

    assert finding == "two heads: run the merge task first"
    assert finding.render(INVOKE) == "two heads: run 'invoke merge' first"
    assert rendered(finding, INVOKE) == "two heads: run 'invoke merge' first"
    assert as_entry(finding, spelling=INVOKE)["message"] == "two heads: run 'invoke merge' first"


def test_a_line_in_a_bind_or_extended_keeps_its_kind_fields_and_hint() -> None:
    finding = Finding("run {command}", "heads", hint=NextStep.MERGE, objects=["a"])

    in_audit = in_bind(extended(finding, " now"), "audit")

    assert isinstance(in_audit, Finding)
    assert in_audit.render(INVOKE) == "audit: run 'invoke merge' now"
    assert (in_audit.kind, in_audit.fields) == ("heads", {"bind": "audit", "objects": ["a"]})


def test_copies_and_pickles_keep_everything() -> None:
    finding = Finding("run {command}", "heads", hint=NextStep.PRUNE, objects=["a"])

    for again in (copy.copy(finding), pickle.loads(pickle.dumps(finding))):
        assert isinstance(again, Finding)
        assert (again, again.kind, again.hint, again.fields) == (
            finding,
            "heads",
            NextStep.PRUNE,
            {"objects": ["a"]},
        )
        assert again.render({NextStep.PRUNE: "'invoke prune'"}) == "run 'invoke prune'"


def test_a_plain_line_is_kind_other() -> None:
    assert as_entry("something", "line") == {"kind": "other", "line": "something"}
    assert rendered("something", INVOKE) == "something"
    plain = in_bind("something", "audit")
    assert isinstance(plain, Finding) and plain.fields == {"bind": "audit"}
