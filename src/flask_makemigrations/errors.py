"""The one exception family for everything a user can cause.

Each error carries a single line that names what was being attempted, so the task layer can print it
as-is and map it to an exit status without knowing which step failed.
"""


class MakemigrationsError(Exception):
    """A problem the user can fix: bad option, app that will not load, broken migration, ..."""

    def __init__(self, message: str):
        # Keep it to one line: multi-line database errors would otherwise spill into the terminal.
        super().__init__(" ".join(str(message).split()))


class UsageError(MakemigrationsError):
    """An option or combination of options that cannot work."""


class AppLoadError(MakemigrationsError):
    """The Flask app could not be found, imported or built, or is unsafe to run against."""


class ForeignDatabaseError(AppLoadError):
    """The app (or its env.py) tried to reach a database other than the shadow database."""


class ShadowDatabaseError(MakemigrationsError):
    """The shadow database could not be created, reached or removed."""


class MigrationError(MakemigrationsError):
    """The migration history is broken: a script fails to load or to apply, or has several heads."""


class MultipleHeadsError(MigrationError):
    """Several heads: a new revision would have no single parent."""


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so every ``finally`` block still cleans up.

    A BaseException, so that ``except Exception`` in application code cannot swallow it.
    """


class VerificationError(MigrationError):
    """A revision does not survive upgrade, downgrade and upgrade again on the shadow database."""


class StrictError(MakemigrationsError):
    """``--strict`` found warnings; they travel with the error so they can still be shown."""

    def __init__(self, message: str, warnings: list):
        super().__init__(message)
        self.warnings = list(warnings)
