"""Benchmark ``invoke makemigrations`` against the two-process recipe it replaces.

Whole processes, timed wall-clock: for each history size N a synthetic project is built, every variant
runs once as a warm-up, then the variants run round-robin (paired and interleaved, so machine noise
hits all of them alike) for ``--runs`` rounds. The table reports medians with min–max and the ratios
the targets are stated in. Where PostgreSQL's server programs are installed, a private server (the
one the tests start, fsync off) gives a second table: the recipe on a fresh database there, and the
tool cold and warm with ``--database``, and warm on a server that has never seen the project (its
templates dropped: the run restores the portable snapshot the user cache kept). Usage::

    python benchmarks/bench.py                    # N = 1, 50, 200, 1000; 5 rounds
    python benchmarks/bench.py --sizes 5 --runs 1 --no-warm-up --output -   # the tests' smoke run
    python benchmarks/bench.py --sizes 1000 --runs 3 --variants warm+verify --no-postgres --output -
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synthetic  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))  # the tests' private PostgreSQL server, reused as it is
import loopback  # noqa: E402
import pg_cluster  # noqa: E402

FLOOR = "import invoke, flask, flask_sqlalchemy, flask_migrate, alembic"


class Variant:
    """A timed command, and what must happen before and after it that is not part of its time."""

    def __init__(self, run, prepare=lambda: None, finish=lambda: None):
        self.run, self.prepare, self.finish = run, prepare, finish


class Bench:
    """One synthetic project and the commands that are timed on it."""

    def __init__(self, root: Path, revisions: int, server=None):
        self.server = server  # a pg_cluster.Cluster, or None
        self.root = synthetic.build(root / "project", revisions, REPO / "migrations")
        self.scratch = root / "scratch"
        self.scratch.mkdir()
        self.cache = root / "cache"
        self.edits, self.models = 0, ""
        self.help = self._run([sys.executable, "-m", "invoke", "-r", str(REPO), "--help", "makemigrations"])

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "DATABASE_URL")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' machines write bytecode caches
        env["PYTHONPATH"] = str(REPO / "src")  # measure this checkout's engine, wherever it is installed
        env["XDG_CACHE_HOME"] = str(self.cache)
        env.update(extra)
        return env

    def _run(self, command, **extra_env) -> str:
        done = subprocess.run(
            command, cwd=self.root, env=self.env(**extra_env), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, command))} failed:\n{done.stderr}")
        return done.stdout

    def supports(self, option: str) -> bool:
        return option in self.help

    def _forget_new_revision(self) -> None:
        for path in (self.root / "migrations" / "versions").glob("*bench*.py"):
            path.unlink()

    def floor(self) -> None:
        self._run([sys.executable, "-c", FLOOR])

    def _flask_db(self, command: str, url: str) -> None:
        options = ["-m", "bench"] if command == "migrate" else []
        self._run([sys.executable, "-m", "flask", "--app", "app", "db", command, *options], DATABASE_URL=url)

    def recipe(self) -> None:
        """What a team scripts by hand: upgrade a scratch file, then migrate against it."""
        database = self.scratch / "recipe.sqlite"
        self._flask_db("upgrade", f"sqlite:///{database}")
        self._flask_db("migrate", f"sqlite:///{database}")
        database.unlink()
        self._forget_new_revision()

    def at_head(self) -> None:
        """A scratch file upgraded to the head (untimed, once: ``migrate`` only reads it), what
        ``migrate`` alone runs against."""
        if not (self.scratch / "head.sqlite").exists():
            self._flask_db("upgrade", f"sqlite:///{self.scratch / 'head.sqlite'}")

    def migrate(self) -> None:
        """The recipe's second step alone, on a database already at the head: Alembic's autogenerate
        by itself, the part of a run no tool that runs it can skip (with loading the app)."""
        self._flask_db("migrate", f"sqlite:///{self.scratch / 'head.sqlite'}")
        self._forget_new_revision()

    def pg_at_head(self) -> None:
        if "head" not in self.server.databases():
            self.server.sql('CREATE DATABASE "head"', database="postgres")
            self._flask_db("upgrade", self.server.url_string(database="head"))

    def pg_migrate(self) -> None:
        self._flask_db("migrate", self.server.url_string(database="head"))
        self._forget_new_revision()

    def pg_done(self) -> None:
        """The database ``pg migrate`` read gone: the next size's project has other tables."""
        self.server.sql('DROP DATABASE IF EXISTS "head"', database="postgres")

    def pg_recipe(self) -> None:
        """The recipe on the server: a fresh database, upgraded, then migrated against."""
        self.server.sql('CREATE DATABASE "recipe"', database="postgres")
        try:
            self._flask_db("upgrade", self.server.url_string(database="recipe"))
            self._flask_db("migrate", self.server.url_string(database="recipe"))
        finally:
            self.server.sql('DROP DATABASE "recipe"', database="postgres")
            self._forget_new_revision()

    def forget_models(self) -> None:
        """The models' schemas the cache keeps gone: the next run meets models it has not seen, as a
        developer's run after editing them does (the timed warm rows re-run unchanged models)."""
        shutil.rmtree(self.cache / "flask-makemigrations" / "models", ignore_errors=True)

    def edit_a_model(self) -> None:
        """A column added to one table of the models (a new one each time: a shape no run has seen),
        as a developer's edit does: the other tables are as the previous run saw them."""
        self.edits += 1
        table = len(list(self.root.glob("migrations/versions/*.py"))) // 8  # one in the middle
        anchor = f"t{table} = db.Table(\n    't{table}',\n"
        models = self.root / "app" / "models.py"
        self.models = models.read_text()
        if anchor not in self.models:
            raise SystemExit(f"no table t{table} in {models}")
        column = f"    db.Column('extra{self.edits}', db.Integer),\n"
        models.write_text(self.models.replace(anchor, anchor + column))

    def undo_the_edit(self) -> None:
        (self.root / "app" / "models.py").write_text(self.models)

    def pg_forget_templates(self) -> None:
        for name in self.server.templates():
            self.server.sql(f'DROP DATABASE "{name}"', database="postgres")

    def ours(self, *options: str, cold: bool = True) -> None:
        if cold:
            shutil.rmtree(self.cache, ignore_errors=True)
        options = [o for o in options if o != "--no-verify" or self.supports("--no-verify")]
        command = [sys.executable, "-m", "invoke", "-r", str(REPO), "makemigrations", "-m", "bench"]
        self._run([*command, *options])
        self._forget_new_revision()
        for path in self.scratch.glob("shadow*"):
            path.unlink()

    def variants(self) -> dict:
        file = str(self.scratch / "shadow.sqlite")
        variants = {
            "floor": self.floor,
            "recipe": self.recipe,
            "cold": lambda: self.ours("--no-verify"),
            "cold+verify": lambda: self.ours(),
            "cold file": lambda: self.ours("--no-verify", "--database", file),
            "cold memory": lambda: self.ours("--no-verify", "--database", ":memory:"),
        }
        timed = {name: Variant(run) for name, run in variants.items()}
        timed["migrate"] = Variant(self.migrate, self.at_head)
        if self.supports("--no-cache"):
            timed["warm"] = Variant(lambda: self.ours("--no-verify", cold=False))
            # The cold runs before it wiped what verification keeps (the tables' shapes, the models'
            # schema): a verifying run first, untimed, leaves the cache as a user's previous run does.
            timed["warm+verify"] = Variant(
                lambda: self.ours(cold=False), prepare=lambda: self.ours(cold=False)
            )
            timed["warm new models"] = Variant(
                lambda: self.ours(cold=False), prepare=lambda: (self.ours(cold=False), self.forget_models())
            )
            timed["warm edited model"] = Variant(
                lambda: self.ours(cold=False),
                prepare=lambda: (self.ours(cold=False), self.edit_a_model()),
                finish=self.undo_the_edit,
            )
        return timed

    def pg_variants(self) -> dict:
        url = self.server.url_string(database="postgres")
        return {
            "floor": Variant(self.floor),
            "pg recipe": Variant(self.pg_recipe),
            "pg migrate": Variant(self.pg_migrate, self.pg_at_head),
            "pg cold": Variant(lambda: self.ours("--no-verify", "--database", url), self.pg_forget_templates),
            "pg cold+verify": Variant(lambda: self.ours("--database", url), self.pg_forget_templates),
            # After a warm run, as a user's runs mostly are: it leaves the template's spare copy,
            # which the timed run takes (the cold run before it dropped every template and spare).
            "pg warm+verify": Variant(
                lambda: self.ours("--database", url, cold=False),
                prepare=lambda: self.ours("--database", url, cold=False),
            ),
            "pg fresh+verify": Variant(
                lambda: self.ours("--database", url, cold=False), self.pg_forget_templates
            ),
            "pg warm new models": Variant(
                lambda: self.ours("--database", url, cold=False),
                prepare=lambda: (self.ours("--database", url, cold=False), self.forget_models()),
            ),
            "pg warm edited model": Variant(
                lambda: self.ours("--database", url, cold=False),
                prepare=lambda: (self.ours("--database", url, cold=False), self.edit_a_model()),
                finish=self.undo_the_edit,
            ),
        }


def measure(variants: dict, runs: int, warm_up: bool = True) -> dict:
    for variant in variants.values() if warm_up else ():  # bytecode caches, the OS file cache
        variant.prepare()
        variant.run()
        variant.finish()
    times = {name: [] for name in variants}
    for _ in range(runs):
        for name, variant in variants.items():
            variant.prepare()
            start = time.perf_counter()
            variant.run()
            times[name].append(time.perf_counter() - start)
            variant.finish()
    return times


#: The ratios the targets are stated in, after each table's medians: a column's name -> its cell.
SQLITE_RATIOS = {
    "recipe / cold": lambda m: (
        f"{m['recipe'] / m['cold']:.2f}×" + (f" (warm {m['recipe'] / m['warm']:.2f}×)" if "warm" in m else "")
    ),
    "cold / floor": lambda m: f"{m['cold'] / m['floor']:.2f}×",
    "warm / floor": lambda m: (
        f"{m['warm'] / m['floor']:.2f}× (+verify {m['warm+verify'] / m['floor']:.2f}×)"
        if "warm" in m
        else "-"
    ),
    "warm new models / floor": lambda m: f"{m['warm new models'] / m['floor']:.2f}×",
    "warm edited model / floor": lambda m: f"{m['warm edited model'] / m['floor']:.2f}×",
    "migrate / floor": lambda m: f"{m['migrate'] / m['floor']:.2f}×",
    "warm+verify / migrate": lambda m: f"{m['warm+verify'] / m['migrate']:.2f}×",
    "verify cost": lambda m: f"{m['cold+verify'] / m['cold'] - 1:+.0%}",
}
PG_RATIOS = {
    "recipe / cold+verify": lambda m: f"{m['pg recipe'] / m['pg cold+verify']:.2f}×",
    "recipe / warm+verify": lambda m: f"{m['pg recipe'] / m['pg warm+verify']:.2f}×",
    "recipe / fresh+verify": lambda m: f"{m['pg recipe'] / m['pg fresh+verify']:.2f}×",
    "warm+verify / floor": lambda m: f"{m['pg warm+verify'] / m['floor']:.2f}×",
    "warm new models / floor": lambda m: f"{m['pg warm new models'] / m['floor']:.2f}×",
    "warm edited model / floor": lambda m: f"{m['pg warm edited model'] / m['floor']:.2f}×",
    "migrate / floor": lambda m: f"{m['pg migrate'] / m['floor']:.2f}×",
    "warm+verify / migrate": lambda m: f"{m['pg warm+verify'] / m['pg migrate']:.2f}×",
    "recipe / migrate": lambda m: f"{m['pg recipe'] / m['pg migrate']:.2f}×",
    "verify cost": lambda m: f"{m['pg cold+verify'] / m['pg cold'] - 1:+.0%}",
}


def chosen(variants: dict, names: list | None) -> dict:
    """The variants named (and the floor, which every ratio is read against), or all of them."""
    return {name: v for name, v in variants.items() if names is None or name in {"floor", *names}}


def ratio_cell(cell, medians: dict) -> str:
    """A ratio's cell, or "-" where a variant it needs was not timed (``--variants``)."""
    try:
        return cell(medians)
    except KeyError:
        return "-"


def table(results: dict, ratios: dict) -> str:
    """Medians (min–max) per variant and size, then the ratios."""
    names = list(next(iter(results.values())))
    lines = [
        "| N | " + " | ".join([*names, *ratios]) + " |",
        "|---|" + "---|" * (len(names) + len(ratios)),
    ]
    for size, times in results.items():
        medians = {name: statistics.median(values) for name, values in times.items()}
        cells = [f"{medians[n]:.2f} ({min(times[n]):.2f}–{max(times[n]):.2f})" for n in names]
        lines.append(
            f"| {size} | "
            + " | ".join(cells + [ratio_cell(cell, medians) for cell in ratios.values()])
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", default=str(HERE / "results.md"), help="results file, or - for none")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument("--no-warm-up", action="store_true", help="time the first round too (a smoke run)")
    parser.add_argument("--variants", nargs="+", help="time only these (and the floor), e.g. warm+verify")
    args = parser.parse_args()

    results, pg_results = {}, {}
    bin_dir = pg_cluster.find_bin_dir() if not args.no_postgres else None
    server = pg_cluster.start_cluster(bin_dir) if bin_dir is not None else None
    pg_report = (
        "PostgreSQL rows skipped: its server programs (initdb, pg_ctl) are not installed."
        if not args.no_postgres and bin_dir is None
        else "PostgreSQL rows not asked for."
    )
    try:
        with tempfile.TemporaryDirectory(prefix="makemigrations-bench-") as work:
            for size in args.sizes:
                root = Path(work) / f"n{size}"
                root.mkdir()
                bench = Bench(root, size, server)
                results[size] = measure(
                    chosen(bench.variants(), args.variants), args.runs, not args.no_warm_up
                )
                pg_variants = chosen(bench.pg_variants(), args.variants) if server is not None else {}
                if len(pg_variants) > 1:
                    pg_results[size] = measure(pg_variants, args.runs, not args.no_warm_up)
                    bench.pg_done()
                print(f"N={size} done", file=sys.stderr)
        if pg_results:
            pg_report = (
                f"On a private PostgreSQL {server.version()} server on this machine (fsync off), the same "
                f"projects:\n\n{table(pg_results, PG_RATIOS)}"
            )
    finally:
        if server is not None:
            loopback.stop_and_remove(server)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    report = (
        f"Median wall seconds (min–max) of {args.runs} interleaved rounds, {date.today()}, {machine}.\n\n"
        f"{table(results, SQLITE_RATIOS)}\n\n{pg_report}\n"
    )
    print(report)
    if args.output != "-":
        Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
