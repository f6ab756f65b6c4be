"""``python -m flask_makemigrations``: the command line of ``frontends/command_line.py``.

The process is the tool's from its first line: a signal while the front end is still imported is
held for the run to report (``run/signals.py``), as it is once the command starts."""

from .run.signals import signals_held_to_the_end

if __name__ == "__main__":
    with signals_held_to_the_end():
        from .frontends.command_line import PROGRAM, main

        main(prog_name=PROGRAM)
