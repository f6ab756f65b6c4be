"""Django's questions, asked on the terminal: on stderr (stdout carries results only), answered on
stdin. Only a person at a terminal is asked, and only by a run that writes: ``--check``, ``--dry-run``
and a run without a terminal list the questions instead (``questioner.Answers`` with no one to ask).
Each question is asked once per run (a revision generated again asks the same ones). Standard
library only, like the rest of ``frontends`` before the engine is imported.
"""

import sys
from collections.abc import Callable
from typing import TextIO

from ..questioner import (
    Answers,
    Questioner,
    column_rename_question,
    not_null_question,
    regenerate_question,
    safe_forms_question,
    table_rename_question,
)
from .terminal import ProgressLine

NOT_NULL_MENU = (
    "{question}.\n"
    "Please select a fix:\n"
    " 1) Provide a one-off default now (used for existing rows only)\n"
    " 2) Quit and add a default to the model\n"
)


class TerminalQuestioner:
    """Asks on ``ask_on`` and reads the answers from ``answers``; an end of input is a no (or, for a
    value, quitting)."""

    def __init__(self, answers: TextIO, ask_on: TextIO, before_asking: Callable[[], None] = lambda: None):
        self.answers = answers
        self.ask_on = ask_on
        self.before_asking = before_asking  # a progress line's erase: a question starts its own line
        self.asked: dict[tuple[str, ...], bool | str | None] = {}

    def ask_rename_table(self, old: str, new: str) -> bool:
        return self._yes(("table", old, new), f"{table_rename_question(old, new)} [y/N] ")

    def ask_rename_column(self, table: str, old: str, new: str, type_: str) -> bool:
        question = column_rename_question(table, old, new, type_)
        return self._yes(("column", table, old, new), f"{question} [y/N] ")

    def ask_not_null_addition(self, table: str, column: str, type_: str) -> str | None:
        key = ("default", table, column)
        if key not in self.asked:
            self.before_asking()
            self.ask_on.write(NOT_NULL_MENU.format(question=not_null_question(table, column, type_)))
            self.asked[key] = self._value() if self._choice() == "1" else None
        answer = self.asked[key]
        return answer if isinstance(answer, str) else None

    def ask_regenerate(self, ref: str, head: str, reason: str) -> bool:
        return self._yes(("regenerate", ref, head), f"{regenerate_question(ref, head, reason)} [y/N] ")

    def ask_safe_forms(self, findings: list[str]) -> bool:
        return self._yes(("safe",), f"{safe_forms_question(findings)} [y/N] ")

    def _yes(self, key: tuple[str, ...], question: str) -> bool:
        if key not in self.asked:
            self.before_asking()
            self.asked[key] = (self._line(question) or "").lower() in ("y", "yes")
        return bool(self.asked[key])

    def _choice(self) -> str:
        """1 or 2, asked again until it is one of them (an end of input: 2)."""
        while True:
            choice = self._line("Select an option: ")
            if choice is None or choice in ("1", "2"):
                return choice or "2"
            self.ask_on.write("Please select a valid option.\n")

    def _value(self) -> str | None:
        """The one-off default, asked again while empty (an end of input: none)."""
        while True:
            value = self._line("Please enter the default value (e.g. 0 or unknown): ")
            if value is None or value:
                return value

    def _line(self, prompt: str) -> str | None:
        """The answer to ``prompt``, stripped; None once the input has ended."""
        self.ask_on.write(prompt)
        self.ask_on.flush()
        line = self.answers.readline()
        if not line:
            self.ask_on.write("\n")
            return None
        return line.strip()


def questioner(
    renames: tuple[str, ...],
    defaults: tuple[str, ...],
    may_ask: bool,
    progress: ProgressLine | None = None,
    regenerate: bool = False,
) -> Questioner:
    """The answers given up front (``--regenerate`` among them), and a person at the terminal for the
    rest where one may be asked (a writing run, stdin and stderr both a terminal)."""
    if not (may_ask and sys.stdin.isatty() and sys.stderr.isatty()):
        return Answers.parse(renames, defaults, regenerate=regenerate)
    person = TerminalQuestioner(sys.stdin, sys.stderr, progress.erase if progress else lambda: None)
    return Answers.parse(renames, defaults, person, regenerate)
