"""Lighthouse mobile (its default form factor) on the public pages: `python -m bench.lighthouse`.

Runs only where Lighthouse is installed (`lighthouse` on PATH, or /tmp/lh/node_modules/.bin/
lighthouse from `npm install --prefix /tmp/lh lighthouse`); otherwise it says it skipped. Not in
`make bench`, which needs nothing from npm. Goals (issue 15): performance >= 95, accessibility 100.
Lighthouse simulates a slow phone from what it observes, so a busy machine lowers the performance
score (its "Unattributable" main-thread time): run it on a quiet machine, twice.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import print_table
from bench.transfer import CHROMIUM, FIRST_VISITS, serve_app

CANDIDATES = (shutil.which("lighthouse"), "/tmp/lh/node_modules/.bin/lighthouse")
PERFORMANCE_GOAL = 95
ACCESSIBILITY_GOAL = 100


def lighthouse() -> str | None:
    return next((path for path in CANDIDATES if path and Path(path).exists()), None)


def scores(tool: str, url: str, out: Path) -> dict[str, int]:
    subprocess.run([tool, url, "--only-categories=performance,accessibility", "--output=json",
                    f"--output-path={out}", "--quiet", "--chrome-flags=--headless=new --no-sandbox"],
                   check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    categories = json.loads(out.read_text(encoding="utf-8"))["categories"]
    return {name: round(category["score"] * 100) for name, category in categories.items()}


def main() -> None:
    tool = lighthouse()
    if tool is None:
        print("\nLighthouse: skipped: lighthouse not installed\n")
        return
    server = serve_app()
    base = f"http://localhost:{server.server_port}"
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for path in FIRST_VISITS:
                found = scores(tool, base + path, Path(folder) / "report.json")
                performance, accessibility = found["performance"], found["accessibility"]
                met = performance >= PERFORMANCE_GOAL and accessibility >= ACCESSIBILITY_GOAL
                rows.append((f"  {path}", f"performance {performance:3d}, accessibility {accessibility:3d}   "
                                          f"goal: >= {PERFORMANCE_GOAL} and {ACCESSIBILITY_GOAL}, "
                                          f"{'met' if met else 'NOT met'}"))
    finally:
        server.shutdown()
    print_table("Lighthouse mobile (simulated slow 4G and a 4x slower CPU)", rows)


if __name__ == "__main__":
    main()
