"""``python -m flask_makemigrations``: the command line of ``frontends/command_line.py``."""

from .frontends.command_line import main

if __name__ == "__main__":
    main(prog_name="python -m flask_makemigrations")
