"""The command surface, declared once: every task, the options it takes (flag, short flag, help, kind,
default) and the run it starts.

``invoke_tasks.py`` builds the Invoke tasks from this table and ``command_line.py`` the Click commands
of ``flask makemigrations`` and ``python -m flask_makemigrations``; neither declares an option of its
own, so the front ends cannot drift apart. Adding an option to a task is a line here, and the field of
``runs.Given`` that carries its value to the engine. How a front end shows a default or a metavar is
its own (Invoke writes them into the help, Click has a place for each); what they say is this table's.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from ..errors import NextStep, Spelling
from . import report, runs


class Kind(Enum):
    TEXT = "text"  # takes a value
    FLAG = "flag"  # on when given
    REPEATED = "repeated"  # a value each time it is given, collected in order


@dataclass(frozen=True)
class Option:
    """One option, as every front end spells it."""

    name: str  # the field of runs.Given it fills; the flag is the name dashed: dry_run is --dry-run
    help: str
    kind: Kind = Kind.TEXT
    short: str | None = None  # only those `flask db` has (-m, -d): none invented
    default: str | None = None  # a value-taking option's value when not given, shown in its help
    metavar: str | None = None  # what the value looks like, where the kind alone does not say it
    choices: tuple[str, ...] = ()  # the values it accepts (any, if empty)
    #: Under ``flask`` the option is Flask's own (``flask --app``): that front end does not add it.
    flask_has_it: bool = False
    #: Also given without its flag, as the task's argument (``invoke locks REV``).
    positional: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def unset(self) -> str | bool | tuple[str, ...] | None:
        """What a task gets when the option is not given (``runs.Given``'s default for it)."""
        if self.kind is Kind.FLAG:
            return False
        return () if self.kind is Kind.REPEATED else self.default

    def helped(self, help: str) -> "Option":
        """The same option, with what it means to one task."""
        return replace(self, help=help)


@dataclass(frozen=True)
class Task:
    """One task: ``invoke NAME``, and a subcommand (or the command itself) of the Click group."""

    name: str
    doc: str  # what it does, in one sentence: the first line of its help
    options: tuple[Option, ...]  # in the order the Click help lists them (Invoke sorts its own)
    run: Callable[[runs.FrontEnd, runs.Given], report.Report]

    @property
    def loads_app(self) -> bool:
        """Whether the task imports the user's app (the Click front ends must see it imported once)."""
        return APP in self.options


APP = Option(
    "app",
    "the Flask app, as for `flask --app` (default: $FLASK_APP, then wsgi.py/app.py)",
    flask_has_it=True,
)
DIRECTORY = Option(
    "directory", "the migrations directory (default: the one the app's Migrate was given)", short="d"
)
URL_ENV = Option(
    "url_env",
    "optional: environment variable set to the shadow database's URL while the app loads (the URL the "
    "app configures is redirected anyway)",
    default="DATABASE_URL",
)
DATABASE = Option(
    "database",
    "shadow database: a new SQLite file path, ':memory:', or a server URL "
    "(postgresql://user:password@host/dbname) to create it on (default: a temporary file)",
)
BIND_ENV = Option(
    "bind_env",
    "optional: environment variable set to bind NAME's shadow database's URL while the app loads "
    "(repeatable; default: NAME_DATABASE_URL, upper-cased)",
    Kind.REPEATED,
    metavar="NAME=VAR",
)
VERBOSE = Option(
    "verbose", "show Alembic's log, one line per applied revision (instead of a progress line)", Kind.FLAG
)
#: Where the app, its migrations and the shadow database are: every task that loads the app.
WHERE = (DIRECTORY, URL_ENV, DATABASE, BIND_ENV, VERBOSE)

FORMAT = Option(
    "format", "json: one JSON object on stdout, for CI tools", default="text", choices=runs.FORMATS
)
MESSAGE = Option("message", "what the revision does (required unless --check or --dry-run)", short="m")
CHECK = Option(
    "check", "write nothing; exit 1 and list the operations if models and migrations differ", Kind.FLAG
)
DRY_RUN = Option("dry_run", "write nothing; print the migration script that would be written", Kind.FLAG)
EMPTY = Option("empty", "write an empty revision, for a hand-written data migration", Kind.FLAG)
REV_ID = Option("rev_id", "use this revision id instead of a random one")
NO_VERIFY = Option(
    "no_verify",
    "skip verifying the new revision on the shadow database (write it even if it fails)",
    Kind.FLAG,
)
STRICT = Option("strict", "exit 2 and write nothing if there is any warning (for CI)", Kind.FLAG)
NO_CACHE = Option(
    "no_cache",
    "use no cache: build the shadow databases, read the revision files and reflect the schemas from scratch",
    Kind.FLAG,
)
RENAME = Option(
    "rename",
    "answer a rename up front: table.old=new (a column) or old_table=new_table (repeatable)",
    Kind.REPEATED,
    metavar="OLD=NEW",
)
DEFAULT = Option(
    "default",
    "a one-off default for the rows a NOT NULL column is added to: table.column=VALUE (repeatable)",
    Kind.REPEATED,
    metavar="TABLE.COLUMN=VALUE",
)
AGAINST = Option(
    "against",
    "also check the history merged with this git ref's (e.g. origin/main): exit 1 if it would have "
    "several heads or both sides change a table",
    metavar="REF",
)
ONTO = Option(
    "onto",
    "the git ref whose head this branch's revisions are to follow, e.g. origin/main (required)",
    metavar="REF",
)
REGENERATE = Option(
    "regenerate",
    "where this branch's revisions no longer apply after the ref's head: replace them by one revision "
    "generated against it",
    Kind.FLAG,
)
SAFE = Option(
    "safe",
    "on a PostgreSQL shadow database: write the revision in the forms that do not block production "
    "(CREATE INDEX CONCURRENTLY, NOT VALID then VALIDATE, a lock_timeout), verified and its locks "
    "reported again",
    Kind.FLAG,
)
LOCKS = Option(
    "locks",
    "on a PostgreSQL shadow database: also report what each revision locks (its SQL, the locks it takes "
    "and what they block, the tables it rewrites and scans)",
    Kind.FLAG,
)
REVISIONS = Option(
    "revisions",
    "a revision (full or partial id), or START:END for the revisions after START up to END "
    "(default: the head)",
    metavar="REV",
    positional=True,
)
SINCE = Option("since", "keep this revision and those before it; fold the ones after (default: fold all)")
CLEAR = Option(
    "clear",
    "remove every cached shadow snapshot, of every project (with --database: on that server)",
    Kind.FLAG,
)

MAKEMIGRATIONS = Task(
    "makemigrations",
    "Autogenerate a migration against a throwaway shadow database at head, then review and verify it.",
    (
        APP,
        MESSAGE,
        CHECK,
        DRY_RUN,
        EMPTY,
        REV_ID,
        RENAME,
        DEFAULT,
        AGAINST.helped(
            "with --check: also check the history merged with this git ref's (e.g. origin/main): exit 1 "
            "if it would have several heads or both sides change a table"
        ),
        NO_VERIFY,
        STRICT,
        SAFE,
        NO_CACHE,
        *WHERE,
        FORMAT,
    ),
    runs.make_migrations,
)
MERGE = Task(
    "merge",
    "Merge every head of the migration history into one, as `flask db merge heads` does.",
    (APP, MESSAGE.helped("message of the merge revision (default: 'merge heads')"), REV_ID, *WHERE),
    runs.merge,
)
SQUASH = Task(
    "squash",
    "Fold the revisions after --since (default: all) into one, proven on shadow databases first.",
    (
        APP,
        MESSAGE.helped("message of the squashed revision (required)"),
        SINCE,
        DRY_RUN.helped("write nothing; print the squashed revision and the files it would replace"),
        NO_CACHE,
        *WHERE,
    ),
    runs.squash,
)
REBASE = Task(
    "rebase",
    "Move this branch's revisions after --onto's head, proven on a shadow database first.",
    (
        APP,
        ONTO,
        REGENERATE,
        DRY_RUN.helped("write nothing; print what would change"),
        NO_CACHE,
        *WHERE,
    ),
    runs.rebase,
)
VERIFY = Task(
    "verify",
    "Check the whole history on a shadow database: each revision up, down and up again; head = models.",
    (APP, AGAINST, LOCKS, *WHERE, FORMAT),
    runs.verify,
)
LOCKS_TASK = Task(
    "locks",
    "Print the SQL each revision runs on a PostgreSQL shadow database and what it locks, as measured there.",
    (APP, REVISIONS, *WHERE, FORMAT),
    runs.locks,
)
PRUNE = Task(
    "prune",
    "Drop the shadow databases that runs on this machine leaked (killed before they could clean up).",
    (DATABASE.helped("the server URL, as given to makemigrations --database (postgresql://...)"),),
    runs.prune,
)
CACHE = Task(
    "cache",
    "Show where the shadow-database snapshots are cached (this project's folder); --clear removes them.",
    (
        CLEAR,
        DIRECTORY.helped("the migrations directory whose snapshots to show (default: ./migrations)"),
        DATABASE.helped(
            "a PostgreSQL server's URL (as for makemigrations --database): its template databases"
        ),
    ),
    runs.cache,
)
#: The main job first: the Click group is made of it, and the others are its subcommands.
TASKS = (MAKEMIGRATIONS, MERGE, SQUASH, REBASE, VERIFY, LOCKS_TASK, PRUNE, CACHE)


def spelling(tasks: str) -> Spelling:
    """The next steps the engine's messages name, as a front end whose tasks run as ``{tasks} NAME``
    (``invoke merge``, ``flask makemigrations merge``) spells them."""
    return {
        NextStep.MERGE: f"'{tasks} {MERGE.name}'",
        NextStep.PRUNE: f"'{tasks} {PRUNE.name} {DATABASE.flag} <the same URL>'",
    }


def run_again(main: str) -> str:
    """A run that writes the pending changes, as a front end whose main job runs as ``main`` spells it
    (said when a check finds some)."""
    return f"'{main} -{MESSAGE.short} ...'"
