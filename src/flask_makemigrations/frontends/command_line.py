"""``python -m flask_makemigrations`` (also the ``flask-makemigrations`` console script) and
``flask makemigrations``: one Click command group for both, with the Invoke task's options and
spellings. Without a subcommand it runs the main job; ``merge``, ``squash``, ``verify``, ``prune`` and
``cache`` are the other tasks (``flask makemigrations verify``, ``python -m flask_makemigrations verify``).

Click comes with Flask, so these front ends need nothing beyond the package's own dependencies. Like the
Invoke tasks they only parse options, hand them to ``runs`` and exit with the report's status.
"""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from ..errors import NextStep
from ..run.requirements import problems
from ..run.signals import signal_held, signals_held
from . import report, runs

SPELLING = {
    NextStep.MERGE: "'python -m flask_makemigrations merge'",
    NextStep.PRUNE: "'python -m flask_makemigrations prune --database <the same URL>'",
}
FLASK_SPELLING = {
    NextStep.MERGE: "'flask makemigrations merge'",
    NextStep.PRUNE: "'flask makemigrations prune --database <the same URL>'",
}

_APP_HELP = "the Flask app, as for `flask --app` (default: $FLASK_APP, then wsgi.py/app.py)"
_DATABASE_HELP = (
    "shadow database: a new SQLite file path, ':memory:', or a server URL "
    "(postgresql://user:password@host/dbname) to create it on (default: a temporary file)"
)

_BIND_ENV_HELP = (
    "the environment variable bind NAME reads its URL from (repeatable; default: NAME_DATABASE_URL, "
    "upper-cased)"
)

Decorated = Callable[..., Any]


def _where_options(command: Decorated) -> Decorated:
    """The options of every task that loads the app (``--app`` is the group's, or Flask's own)."""
    for option in reversed(
        [
            click.option(
                "-d",
                "--directory",
                help="the migrations directory (default: the one the app's Migrate was given)",
            ),
            click.option(
                "--url-env",
                default="DATABASE_URL",
                show_default=True,
                help="environment variable the app reads its database URL from",
            ),
            click.option("--database", help=_DATABASE_HELP),
            click.option("--bind-env", multiple=True, metavar="NAME=VAR", help=_BIND_ENV_HELP),
            click.option("--verbose", is_flag=True, help="show Alembic's log, one line per applied revision"),
        ]
    ):
        command = option(command)
    return command


_format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(runs.FORMATS),
    default="text",
    show_default=True,
    help="json: one JSON object on stdout, for CI tools",
)


def _main_options(command: Decorated) -> Decorated:
    for option in reversed(
        [
            click.option(
                "-m", "--message", help="what the revision does (required unless --check or --dry-run)"
            ),
            click.option(
                "--check",
                is_flag=True,
                help="write nothing; exit 1 and list the operations if models and migrations differ",
            ),
            click.option(
                "--dry-run",
                is_flag=True,
                help="write nothing; print the migration script that would be written",
            ),
            click.option(
                "--empty", is_flag=True, help="write an empty revision, for a hand-written data migration"
            ),
            click.option("--rev-id", help="use this revision id instead of a random one"),
            click.option(
                "--no-verify", is_flag=True, help="skip verifying the new revision on the shadow database"
            ),
            click.option(
                "--strict", is_flag=True, help="exit 2 and write nothing if there is any warning (for CI)"
            ),
            click.option("--no-cache", is_flag=True, help=runs.NO_CACHE_HELP),
        ]
    ):
        command = option(command)
    return command


#: Set for the clean process ``flask makemigrations`` runs itself in: it still speaks ``flask``'s syntax.
UNDER_FLASK = "FLASK_MAKEMIGRATIONS_UNDER_FLASK"


def _front(ctx: click.Context, output_format: str = "text") -> runs.FrontEnd:
    if ctx.find_root().command is main and not os.environ.get(UNDER_FLASK):
        return runs.FrontEnd(SPELLING, "'python -m flask_makemigrations -m ...'", format=output_format)
    return runs.FrontEnd(FLASK_SPELLING, "'flask makemigrations -m ...'", format=output_format)


def _app(ctx: click.Context) -> str | None:
    """``--app`` of this command or of its group, else Flask's (``flask --app``, ``$FLASK_APP``, which
    Flask keeps in its ``ScriptInfo``), else None: the engine then discovers it as ``flask`` does."""
    for context in (ctx, ctx.parent):
        if context is not None and context.params.get("app"):
            return str(context.params["app"])
    from flask.cli import ScriptInfo

    info = ctx.find_object(ScriptInfo)
    return info.app_import_path if info is not None else None


def _where(
    ctx: click.Context,
    directory: str | None,
    url_env: str,
    database: str | None,
    bind_env: tuple[str, ...],
    verbose: bool,
) -> runs.Where:
    return runs.Where(_app(ctx), directory, url_env, database, verbose, bind_env)


def _exit(shown: report.Report) -> NoReturn:
    sys.exit(runs.write(shown))


class _Command(click.Command):
    """A mistyped option is one ``Error:`` line and status 2, like every error of the tool (Click
    would print the usage line and a hint around it); a signal from the command's first instant is
    the run's to report (``signals.signals_held``), never Click's "Aborted!"."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _one_line_usage_errors():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with signals_held():
            return super().invoke(ctx)


class _Group(_Command, click.Group):
    """Likewise for a mistyped subcommand."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        with _one_line_usage_errors():
            return super().resolve_command(ctx, args)


@contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        _usage_error(exc.format_message())


def _usage_error(message: str) -> NoReturn:
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(report.ERROR)


def _build(name: str, own_app_option: bool) -> click.Group:
    """The group for one front end: ``python -m`` has ``--app`` (on the group and on each task that
    loads the app); under ``flask`` it is Flask's own."""

    @click.group(
        name=name,
        cls=_Group,
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @_main_options
    @_where_options
    @_format_option
    @click.pass_context
    def group(
        ctx: click.Context,
        /,
        message: str | None,
        check: bool,
        dry_run: bool,
        empty: bool,
        rev_id: str | None,
        no_verify: bool,
        strict: bool,
        no_cache: bool,
        directory: str | None,
        url_env: str,
        database: str | None,
        bind_env: tuple[str, ...],
        verbose: bool,
        output_format: str,
        app: str | None = None,
    ) -> None:
        """Autogenerate a migration against a throwaway shadow database at head, then review and
        verify it. The other tasks are subcommands."""
        if ctx.invoked_subcommand is not None:
            _refuse_main_options(ctx)
            return
        _reexec_if_the_app_is_loaded(ctx)
        wanted = runs.Wanted(message, check, dry_run, empty, rev_id, not no_verify, strict, not no_cache)
        where = _where(ctx, directory, url_env, database, bind_env, verbose)
        _exit(runs.make_migrations(_front(ctx, output_format), where, wanted))

    @group.command(cls=_Command)
    @click.option("-m", "--message", help="message of the merge revision (default: 'merge heads')")
    @click.option("--rev-id", help="use this revision id instead of a random one")
    @_where_options
    @click.pass_context
    def merge(
        ctx: click.Context,
        /,
        message: str | None,
        rev_id: str | None,
        directory: str | None,
        url_env: str,
        database: str | None,
        bind_env: tuple[str, ...],
        verbose: bool,
        app: str | None = None,
    ) -> None:
        """Merge every head of the migration history into one, as `flask db merge heads` does."""
        _reexec_if_the_app_is_loaded(ctx)
        _exit(
            runs.merge(
                _front(ctx), _where(ctx, directory, url_env, database, bind_env, verbose), message, rev_id
            )
        )

    @group.command(cls=_Command)
    @click.option("-m", "--message", help=runs.SQUASH_HELP["message"])
    @click.option(
        "--since", help="keep this revision and those before it; fold the ones after (default: all)"
    )
    @click.option(
        "--dry-run", is_flag=True, help="write nothing; print the squashed revision and what it replaces"
    )
    @click.option("--no-cache", is_flag=True, help=runs.NO_CACHE_HELP)
    @_where_options
    @click.pass_context
    def squash(
        ctx: click.Context,
        /,
        message: str | None,
        since: str | None,
        dry_run: bool,
        no_cache: bool,
        directory: str | None,
        url_env: str,
        database: str | None,
        bind_env: tuple[str, ...],
        verbose: bool,
        app: str | None = None,
    ) -> None:
        """Fold the revisions after --since (default: all) into one, proven on shadow databases first."""
        _reexec_if_the_app_is_loaded(ctx)
        where = _where(ctx, directory, url_env, database, bind_env, verbose)
        _exit(runs.squash(_front(ctx), where, message, since, dry_run, not no_cache))

    @group.command(cls=_Command)
    @_where_options
    @_format_option
    @click.pass_context
    def verify(
        ctx: click.Context,
        /,
        directory: str | None,
        url_env: str,
        database: str | None,
        bind_env: tuple[str, ...],
        verbose: bool,
        output_format: str,
        app: str | None = None,
    ) -> None:
        """Check the whole history on a shadow database: each revision up, down and up again; head =
        models."""
        _reexec_if_the_app_is_loaded(ctx)
        _exit(
            runs.verify(
                _front(ctx, output_format), _where(ctx, directory, url_env, database, bind_env, verbose)
            )
        )

    @group.command(cls=_Command)
    @click.option(
        "--database", help="the server URL, as given to makemigrations --database (postgresql://...)"
    )
    @click.pass_context
    def prune(ctx: click.Context, /, database: str | None) -> None:
        """Drop the shadow databases that runs on this machine leaked (killed before they could clean up)."""
        _exit(runs.prune(_front(ctx), database))

    @group.command(cls=_Command)
    @click.option(
        "--clear",
        is_flag=True,
        help="remove every cached shadow snapshot, of every project (with --database: on that server)",
    )
    @click.option(
        "-d", "--directory", help="the migrations directory whose snapshots to show (default: ./migrations)"
    )
    @click.option(
        "--database", help="a PostgreSQL server's URL, as given to --database: its template databases"
    )
    @click.pass_context
    def cache(ctx: click.Context, /, clear: bool, directory: str | None, database: str | None) -> None:
        """Show where the shadow-database snapshots are cached; --clear removes them."""
        _exit(runs.cache(_front(ctx), clear, directory, database))

    if own_app_option:
        for command in (group, merge, verify):
            command.params.insert(0, click.Option(["--app"], help=_APP_HELP))
    return group


#: ``python -m flask_makemigrations`` and the console script.
main = _build("flask_makemigrations", own_app_option=True)
#: ``flask makemigrations``, registered through the ``flask.commands`` entry point.
flask_command = _build("makemigrations", own_app_option=False)


def _given_options(ctx: click.Context) -> list[tuple[click.Option, Any]]:
    """The options of this command that the command line set (to something but their default)."""
    given = []
    for parameter in ctx.command.params:
        value = ctx.params.get(parameter.name or "")
        unset = value in (None, False, ()) or value == parameter.default  # (): a repeatable one, not given
        if isinstance(parameter, click.Option) and not unset:
            given.append((parameter, value))
    return given


def _refuse_main_options(ctx: click.Context) -> None:
    """The group's own options belong to the main job: before a subcommand they would be ignored."""
    given = [option.opts[-1] for option, _ in _given_options(ctx) if option.name != "app"]
    if given:
        _usage_error(
            f"{', '.join(given)} before '{ctx.invoked_subcommand}' would be ignored: "
            "put the options after the subcommand"
        )


def _reexec_if_the_app_is_loaded(ctx: click.Context) -> None:
    """Under ``flask``: the app must be imported once, after the connection guard is in place and with
    the shadow URL in its variable. If Flask (or anything before this command) already imported it,
    with the developer's own URL, the same command replaces this process with a clean one (the same
    pid, so signals and the exit status are the run's own).

    Libraries below the supported versions come first: looking for a loaded app imports Alembic
    (``compat``), which an old SQLAlchemy breaks, so such a run goes straight on to ``runs``, whose
    version check is its one error line (or JSON object)."""
    if ctx.find_root().command is main or problems():
        return
    from flask.cli import ScriptInfo

    info = ctx.find_object(ScriptInfo)
    if info is not None and info.create_app is not None and not info.app_import_path:
        _usage_error(
            "this script builds its app with FlaskGroup(create_app=...), which the run cannot import "
            "afresh: name the app with --app or FLASK_APP"
        )
    if not _app_already_imported(ctx) or signal_held():  # a held signal would go with this process
        return  # (the run reports it instead, before it loads any app)
    arguments = [sys.executable, "-m", "flask_makemigrations"]
    app = _app(ctx)
    if app:
        arguments += ["--app", app]
    arguments += _as_arguments(ctx)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, arguments, {**os.environ, UNDER_FLASK: "1"})


def _app_already_imported(ctx: click.Context) -> bool:
    from flask.cli import ScriptInfo

    from ..compat import loaded_flask_app

    info = ctx.find_object(ScriptInfo)
    return info is not None and loaded_flask_app(info) is not None


def _as_arguments(ctx: click.Context) -> list[str]:
    """The command line that gives this command again: its name if it is a subcommand, and the options
    it was given (the group's own options cannot come with a subcommand: ``_refuse_main_options``)."""
    arguments = [] if ctx.command is flask_command else [ctx.info_name or ""]
    for option, value in _given_options(ctx):
        name = option.opts[-1]
        if option.is_flag:
            arguments.append(name)
            continue
        for each in value if option.multiple else [value]:  # a repeatable one, once per value
            arguments += [name, str(each)]
    return arguments
