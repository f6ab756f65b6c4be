"""What a generated script needs before Alembic renders it, as named steps.

Our ``process_revision_directives`` (``generation.py``) runs once per engine that ``env.py``
migrates, before the hook ``env.py`` configures, and completes that engine's operations in the script
with ``STEPS``, in order:

1. ``with_answers``: the questions autogenerate cannot answer (a rename, a NOT NULL column's value
   for existing rows), asked of the run's ``Questioner``, and the operations rewritten by the
   answers (``answers.py``);
2. ``with_drift``: the operations for what verification found and autogenerate did not see
   (``drift.py``), at the end of the upgrade and their downgrades first in the downgrade;
3. ``in_stable_order``: the same order in every process (``ordering.py``);
4. ``with_custom_type_imports``: the imports of other packages' types, and a finding for each type
   of this engine whose ``repr()`` would not rebuild it (``custom_types.py``);
5. ``with_enum_types``: PostgreSQL's enum types created before the operations that need them (a
   ``Rewriter`` of the operations, ``rewriter.py``), dropped in the downgrade, and the values they
   gain (``enum_types.py``);
6. ``in_safe_forms``: with ``--safe``, on PostgreSQL, the operations on existing tables in the forms
   that do not block production (``safe_forms.py``).

A step is a function of the ``Completing`` engine; a rewrite of single operations (a drop and an add
that are a rename, a NOT NULL column's default) is a ``Rewriter`` a step applies.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from ..dialects import impl_for
from ..findings import Finding
from ..questioner import ANSWER_DEFAULTS, Question, Questioner
from . import answers, enum_types, ordering
from .custom_types import custom_types, imports_for, renders_by_module, unrebuildable
from .driver import upgrade_token
from .safe_forms import SafeForms

#: An operation the revision gets besides autogenerate's, with its downgrade (``drift``).
DriftOperation = tuple[ops.MigrateOperation, ops.MigrateOperation]
#: Such operations by bind key (None: the main database).
Drift = dict[str | None, list[DriftOperation]]


@dataclass
class Completing:
    """One engine's part of the scripts being completed, and what the steps found to say about it."""

    context: MigrationContext  # the engine's: its dialect, env.py's options, a connection
    directives: list[ops.MigrationScript]
    drift: list[DriftOperation] = field(default_factory=list)
    questioner: Questioner = ANSWER_DEFAULTS
    findings: list[Finding] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)  # what no one answered
    safe: bool = False  # --safe: the operations rewritten into the forms that do not block production

    def pairs(self) -> Iterator[tuple[ops.UpgradeOps, ops.DowngradeOps]]:
        """This engine's upgrade and downgrade in each script (the others are other engines')."""
        token = upgrade_token(self.context)
        for script in self.directives:
            for upgrade, downgrade in zip(script.upgrade_ops_list, script.downgrade_ops_list, strict=True):
                if upgrade.upgrade_token == token:
                    yield upgrade, downgrade


#: One part of the completion.
Step = Callable[[Completing], None]


def with_answers(completing: Completing) -> None:
    """Ask, and rewrite the operations by the answers (before anything else sees them)."""
    for upgrade, downgrade in completing.pairs():
        completing.questions += answers.ask_and_rewrite(
            completing.questioner, upgrade, downgrade, completing.context.dialect
        )


def with_drift(completing: Completing) -> None:
    """The drift operations at the end of the upgrade, their downgrades first in the downgrade."""
    for upgrade, downgrade in completing.pairs():
        upgrade.ops.extend(up for up, _ in completing.drift)
        downgrade.ops[:0] = [down for _, down in reversed(completing.drift)]


def in_stable_order(completing: Completing) -> None:
    """Alembic iterates sets of names: the same models and history give the same file only sorted."""
    for upgrade, downgrade in completing.pairs():
        ordering.put_in_stable_order(upgrade, downgrade)


def with_custom_type_imports(completing: Completing) -> None:
    """A type of another package renders as ``module.Type(...)``, which the script must import (every
    engine's, each time: the script is one file); this engine's that would not rebuild are findings."""
    if not renders_by_module(completing.context.opts):
        return
    mine = [container for pair in completing.pairs() for container in pair]
    for script in completing.directives:
        every = [*script.upgrade_ops_list, *script.downgrade_ops_list]
        # A new set: MigrationScript's default one is shared by every script of the process.
        script.imports = script.imports | imports_for(custom_types(every))
    completing.findings += unrebuildable(custom_types(mine), completing.context.dialect)


def with_enum_types(completing: Completing) -> None:
    """Autogenerate creates PostgreSQL's enum types only inside ``create_table``, never drops them and
    does not see new values: unless alembic-postgresql-enum does it, the revision does."""
    if not enum_types.applies(completing.context):
        return
    existing = enum_types.existing(completing.context)
    for upgrade, downgrade in completing.pairs():
        new_types = enum_types.NewEnumTypes(completing.context, existing)
        new_types.rewriter.rewrite(upgrade)
        downgrade.ops.extend(new_types.drops())
        enum_types.add_values(completing.context, existing, upgrade, downgrade)


def in_safe_forms(completing: Completing) -> None:
    """With ``--safe``, where the lock report is measured (PostgreSQL), the operations on existing
    tables in their safe forms, last: after the enum types they may need."""
    if not completing.safe or not impl_for(completing.context.dialect.name).lock_modes:
        return
    for upgrade, _ in completing.pairs():
        SafeForms(completing.context.dialect, upgrade).rewrite(upgrade)


STEPS: tuple[Step, ...] = (
    with_answers,
    with_drift,
    in_stable_order,
    with_custom_type_imports,
    with_enum_types,
    in_safe_forms,
)


def complete(
    context: MigrationContext,
    directives: list[ops.MigrationScript],
    drift: list[DriftOperation],
    questioner: Questioner = ANSWER_DEFAULTS,
    safe: bool = False,
) -> Completing:
    """Each step on this engine's operations in ``directives``; what they found about them and the
    questions no one answered are in what is returned."""
    completing = Completing(context, directives, drift, questioner, safe=safe)
    for step in STEPS:
        step(completing)
    return completing
