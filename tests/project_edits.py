"""Edits to a copy of the example project that tests of several layers make: kept here, beside
conftest.py, so that a test module imports them from the root of the suite, never from another test
module in another folder."""

from conftest import HEAD, ProjectCopy

#: A table the migrations create with an unnamed CHECK that the models lack: no operation can drop
#: a constraint without a name, so it stays a difference on every database.
NOTE_MODEL = """

class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text)
"""
NOTE_TABLE = (
    '    op.execute("CREATE TABLE note (id INTEGER NOT NULL, body TEXT CHECK (length(body) > 0), '
    'CONSTRAINT pk_note PRIMARY KEY (id))")'
)

CONNECT_AT_IMPORT = """
import sqlalchemy as _sa

_engine = _sa.create_engine({url!r})
{body}
"""


def add_unnamed_check(project: ProjectCopy) -> None:
    """Migrations whose ``note`` table has a CHECK constraint the models do not have."""
    models = project.root / "app" / "models.py"
    models.write_text(models.read_text() + NOTE_MODEL)
    project.add_revision("0003_note", HEAD, NOTE_TABLE, downgrade='    op.execute("DROP TABLE note")')


def connect_at_import(project: ProjectCopy, url: str, swallow: bool = False) -> None:
    """An app that connects to ``url`` when it is imported (and, with ``swallow``, ignores a failure)."""
    body = "_engine.connect().close()"
    if swallow:
        body = f"try:\n    {body}\nexcept Exception:\n    pass"
    init = project.root / "app" / "__init__.py"
    init.write_text(init.read_text() + CONNECT_AT_IMPORT.format(url=url, body=body))
