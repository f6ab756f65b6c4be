"""The questioner: what the engine may ask about a revision, passed in by the front end's Runtime."""

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from alembic.operations import ops

from flask_makemigrations.questioner import ANSWER_DEFAULTS, Answers, Questioner
from flask_makemigrations.revisions.rewriter import Rewriter
from flask_makemigrations.run.session import QUIET, Runtime


@dataclass
class ScriptedQuestioner:
    """A test double: answers from a script, and remembers what it was asked."""

    renamed: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, old) -> new
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def ask_rename_table(self, old: str, new: str) -> bool:
        self.asked.append(("rename_table", old, new))
        return False

    def ask_rename_column(self, table: str, old: str, new: str, type_: str) -> bool:
        self.asked.append(("rename_column", table, old, new))
        return self.renamed.get((table, old)) == new

    def ask_not_null_addition(self, table: str, column: str, type_: str) -> str | None:
        self.asked.append(("not_null_addition", table, column))
        return None

    def ask_regenerate(self, ref: str, head: str, reason: str) -> bool | None:
        self.asked.append(("regenerate", ref, head))
        return None

    def ask_safe_forms(self, findings: list[str]) -> bool:
        self.asked.append(("safe_forms", *findings))
        return False


def test_an_api_caller_gets_no_answer_the_revision_as_autogenerate_writes_it() -> None:
    questioner = QUIET.questioner

    assert questioner is ANSWER_DEFAULTS
    assert questioner.ask_rename_table("post", "article") is None
    assert questioner.ask_rename_column("post", "title", "headline", "VARCHAR(80)") is None
    assert questioner.ask_not_null_addition("user", "age", "INTEGER") is None
    assert questioner.ask_safe_forms(["index ix_user_age on user is built under the SHARE lock ..."]) is None


def test_answers_given_up_front_answer_their_own_questions_and_ask_the_rest() -> None:
    asked = ScriptedQuestioner(renamed={("post", "body"): "text"})
    given = Answers.parse(["post.title=headline", "post=article"], ["user.age=0"], asked)

    assert given.ask_rename_table("post", "article") is True
    assert given.ask_rename_table("post", "entry") is False  # answered: not that one
    assert given.ask_rename_column("post", "title", "headline", "VARCHAR(80)") is True
    assert given.ask_rename_column("post", "body", "text", "TEXT") is True  # asked
    assert given.ask_not_null_addition("user", "age", "INTEGER") == "0"
    assert given.ask_not_null_addition("user", "rank", "INTEGER") is None  # asked
    assert asked.asked == [("rename_column", "post", "body", "text"), ("not_null_addition", "user", "rank")]


def test_a_front_ends_questioner_reaches_a_rewrite_through_the_runtime() -> None:
    double = ScriptedQuestioner(renamed={("post", "title"): "headline"})
    runtime = Runtime(questioner=double)
    assert isinstance(double, Questioner)
    dropped, added = (
        ops.DropColumnOp("post", "title"),
        ops.AddColumnOp("post", sa.Column("headline", sa.String(80))),
    )
    upgrade = ops.UpgradeOps([ops.ModifyTableOps("post", [dropped, added])])

    renames = Rewriter()

    @renames.rewrites(ops.ModifyTableOps)
    def renamed(table: ops.ModifyTableOps) -> list[ops.MigrateOperation]:
        drops = [op for op in table.ops if isinstance(op, ops.DropColumnOp)]
        adds = [op for op in table.ops if isinstance(op, ops.AddColumnOp)]
        for drop, add in zip(drops, adds, strict=False):
            if runtime.questioner.ask_rename_column(table.table_name, drop.column_name, add.column.name, ""):
                rename = ops.AlterColumnOp(table.table_name, drop.column_name, modify_name=add.column.name)
                table.ops = [rename if op is drop else op for op in table.ops if op is not add]
        return [table]

    renames.rewrite(upgrade)

    assert double.asked == [("rename_column", "post", "title", "headline")]
    (modified,) = upgrade.ops
    assert isinstance(modified, ops.ModifyTableOps)
    (rename,) = modified.ops
    assert isinstance(rename, ops.AlterColumnOp)
    assert (rename.column_name, rename.modify_name) == ("title", "headline")


@pytest.mark.version_independent
def test_the_terminal_asks_about_the_safe_forms_once_listing_what_was_measured() -> None:
    from io import StringIO

    from flask_makemigrations.frontends.questions import TerminalQuestioner

    asked_on = StringIO()
    person = TerminalQuestioner(StringIO("y\n"), asked_on)
    measured = ["index ix_post_title on post is built under the SHARE lock on post ..."]

    assert person.ask_safe_forms(measured) is True
    assert person.ask_safe_forms(measured) is True  # a revision generated again is not asked again
    assert asked_on.getvalue() == (
        "The revision blocks production on PostgreSQL, as measured on the shadow database:\n"
        f"  - {measured[0]}\n"
        "Write it in its safe form (CREATE INDEX CONCURRENTLY, NOT VALID then VALIDATE, a lock_timeout; "
        "as --safe does)? [y/N] "
    )
    assert TerminalQuestioner(StringIO(""), StringIO()).ask_safe_forms(measured) is False  # no answer: no
