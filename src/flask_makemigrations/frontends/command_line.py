"""``python -m flask_makemigrations`` (also the ``flask-makemigrations`` console script) and
``flask makemigrations``: one Click command group for both, built from the tasks and options of
``surface.py`` (those of the Invoke tasks). Without a subcommand it runs the main job; ``merge``,
``squash``, ``rebase``, ``verify``, ``prune`` and ``cache`` are the other tasks (``flask makemigrations
verify``, ``python -m flask_makemigrations verify``).

Click comes with Flask, so these front ends need nothing beyond the package's own dependencies. Like the
Invoke tasks they only parse options, hand them to ``runs`` and exit with the report's status.
"""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from ..run.requirements import problems
from ..run.signals import signal_held, signals_held_to_the_end
from . import report, runs, surface

#: ``python -m flask_makemigrations`` (and the console script), and ``flask makemigrations``.
PROGRAM, FLASK_PROGRAM = "python -m flask_makemigrations", "flask makemigrations"
SPELLING, FLASK_SPELLING = surface.spelling(PROGRAM), surface.spelling(FLASK_PROGRAM)
RUN_AGAIN, FLASK_RUN_AGAIN = surface.run_again(PROGRAM), surface.run_again(FLASK_PROGRAM)


#: Set for the clean process ``flask makemigrations`` runs itself in: it still speaks ``flask``'s syntax.
UNDER_FLASK = "FLASK_MAKEMIGRATIONS_UNDER_FLASK"


def _front(ctx: click.Context) -> runs.FrontEnd:
    if ctx.find_root().command is main and not os.environ.get(UNDER_FLASK):
        return runs.FrontEnd(SPELLING, RUN_AGAIN)
    return runs.FrontEnd(FLASK_SPELLING, FLASK_RUN_AGAIN)


def _app(ctx: click.Context) -> str | None:
    """``--app`` of this command or of its group, else Flask's (``flask --app``, ``$FLASK_APP``, which
    Flask keeps in its ``ScriptInfo``), else None: the engine then discovers it as ``flask`` does."""
    for context in (ctx, ctx.parent):
        if context is not None and context.params.get("app"):
            return str(context.params["app"])
    from flask.cli import ScriptInfo

    info = ctx.find_object(ScriptInfo)
    return info.app_import_path if info is not None else None


def _exit(shown: report.Report) -> NoReturn:
    sys.exit(runs.write(shown))


class _Command(click.Command):
    """A mistyped option is one ``Error:`` line and status 2, like every error of the tool (Click
    would print the usage line and a hint around it); a signal from the command's first instant is
    the run's to report (``signals.signals_held``), never Click's "Aborted!"; once the command is
    done the process only ends, and they are ignored (``signals.signals_held_to_the_end``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _one_line_usage_errors():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with signals_held_to_the_end():
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
    """The group for one front end, made of ``surface.py``'s tasks: the main job is the group itself,
    the others its subcommands. ``python -m`` has ``--app`` (on the group and on each task that loads
    the app); under ``flask`` it is Flask's own."""
    main_task, *other_tasks = surface.TASKS
    return _Group(
        name,
        commands=[_command(task, own_app_option) for task in other_tasks],
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        params=_options(main_task, own_app_option),
        callback=_callback(main_task),
        help=f"{main_task.doc} The other tasks are subcommands.",
    )


def _command(task: surface.Task, own_app_option: bool) -> click.Command:
    return _Command(task.name, params=_options(task, own_app_option), callback=_callback(task), help=task.doc)


def _options(task: surface.Task, own_app_option: bool) -> list[click.Parameter]:
    declared = [option for option in task.options if own_app_option or not option.flask_has_it]
    return [_option(option) for option in declared]


def _option(option: surface.Option) -> click.Parameter:
    """A declared option as Click parses and shows it (a positional one as the command's argument)."""
    if option.positional:
        return click.Argument([option.name], required=False, metavar=option.metavar)
    flags = [*([f"-{option.short}"] if option.short else []), option.flag]
    shown: dict[str, Any] = {"metavar": option.metavar} if option.metavar else {}
    if option.default is not None:
        shown.update(default=option.default, show_default=True)
    if option.choices:
        shown["type"] = click.Choice(option.choices)
    return click.Option(
        flags,
        is_flag=option.kind is surface.Kind.FLAG,
        multiple=option.kind is surface.Kind.REPEATED,
        help=option.help,
        **shown,
    )


def _callback(task: surface.Task) -> Callable[..., None]:
    """What a command does once Click has parsed it: hand the options to the task's run and exit."""

    @click.pass_context
    def run_task(ctx: click.Context, /, **parsed: Any) -> None:
        if ctx.invoked_subcommand is not None:  # the group, before one of its subcommands
            _refuse_main_options(ctx)
            return
        if task.loads_app:
            _reexec_if_the_app_is_loaded(ctx)
            parsed["app"] = _app(ctx)
        _exit(task.run(_front(ctx), runs.Given(**parsed)))

    return run_task


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
