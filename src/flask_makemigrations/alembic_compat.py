"""Alembic internals the tool relies on, each with its reason, in one place to review on upgrades.

Everything else goes through Alembic's documented API.
"""

from alembic.script import Script, ScriptDirectory


def every_revision(script: ScriptDirectory) -> list[Script]:
    """Every revision of the history, whatever its id.

    ``walk_revisions`` resolves ids through Alembic's revision syntax, so a revision whose id is a
    symbol (``base``, ``heads``) makes it fail with a bare ``AssertionError`` before anything could
    name the file to fix. ``RevisionMap._revision_map`` (id or branch label -> revision, ``None`` for
    base) is what the public methods read; it has had that shape in every release since 1.0.
    """
    found = {r.revision: r for r in script.revision_map._revision_map.values() if r is not None}
    return list(found.values())
