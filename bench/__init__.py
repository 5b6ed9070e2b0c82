"""Benchmarks (`make bench`): speed and size, measured outside the test suite."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from statistics import median  # not `import statistics`: the submodule bench.statistics takes that name here


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds of `repeat` calls of `fn`."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return median(samples), samples[int(len(samples) * 0.95) - 1]


def page_row(client, path: str, name: str, goal: float, queries: dict, repeat: int,
             on: str = "median") -> tuple[str, str]:
    """One line of a page benchmark: GET `path` once to warm up and count its queries (the
    engine's listener counts into `queries["n"]`), then time `repeat` GETs against `goal` ms
    (the goal is on the median, or on the p95 with `on="p95"`)."""
    label = f"  GET {path} ({name})"
    status = client.get(path).status_code
    if status != 200:
        return label, f"skipped: answered {status}"
    queries["n"] = 0
    client.get(path)
    per_page = queries["n"]
    middle, p95 = timed(lambda: client.get(path), repeat)
    measured = p95 if on == "p95" else middle
    return label, (f"median {middle:6.1f} ms, p95 {p95:6.1f} ms, {per_page:3d} queries"
                   f"   goal: {on} < {goal} ms, {'met' if measured < goal else 'NOT met'}")


def at_each_size(measure: Callable[[str, int, str | None], list[tuple[str, str]]],
                 sizes: tuple[tuple[str, int], ...]) -> list[tuple[str, str]]:
    """The rows of `measure(label, divisor, database)` at each size on SQLite, then on PostgreSQL
    too when BENCH_POSTGRES_URL is set (that database is emptied first)."""
    postgres = os.environ.get("BENCH_POSTGRES_URL")
    return [row for database in ((None, postgres) if postgres else (None,))
            for label, divisor in sizes for row in measure(label, divisor, database)]


def print_table(title: str, rows: list[tuple[str, str]], note: str = "") -> None:
    """Print a benchmark's rows (label, figures; a row without figures is a heading) under `title`."""
    width = max(len(r[0]) for r in rows if r[1])
    print(f"\n{title}\n")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}" if value else f"  {label}")
    print(f"\n  {note}\n" if note else "")


def fresh_database(url: str | None, folder) -> str:
    """A SQLite file in `folder`, or the PostgreSQL database at `url` emptied (its public schema
    dropped and made again): benchmarks start from nothing."""
    if url is None:
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    from sqlalchemy import create_engine, text

    from rph_pwa.config import normalise_database_url

    url = normalise_database_url(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def bench_app(name: str, postgres: str | None = None):
    """A migrated app for an in-process benchmark in a new temporary folder (returned beside it): a
    SQLite file there, or the PostgreSQL database at `postgres` emptied; mail to an outbox file,
    and a sign-in limit no benchmark reaches."""
    import tempfile
    from pathlib import Path

    from rph_pwa import create_app
    from rph_pwa.config import TestConfig

    folder = Path(tempfile.mkdtemp(prefix=f"rph-bench-{name}-"))
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=fresh_database(postgres, folder),
                     SIGNIN_RATE_LIMIT="100000 per minute", MAIL_BACKEND="outbox",
                     MAIL_OUTBOX=str(folder / "outbox"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    return app, folder
