"""Scan throughput of `staticimg extract --plan` over large real code bases with no calls.

Default targets: the test environment's own site-packages, and the base interpreter's whole
library folder (standard library plus its site-packages: about 13,000 Python files here).
Runs the real console command in a subprocess several times (the first run may meet a cold
OS file cache) and reports files per second, process start-up included, from the command's
own count of files scanned.

    python bench/scan_speed.py [PATH ...] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

COMMAND = Path(sys.executable).with_name("staticimg")


def run_once(target: Path) -> tuple[float, int, int, int]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(COMMAND), "-C", str(target), "extract", "--plan"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    summary = result.stderr.strip().splitlines()[-1]
    scanned = int(summary.split(" files scanned")[0].rsplit(" ", 1)[-1])
    parsed = int(summary.split("(")[1].split(" parsed")[0])
    problems = sum(line.startswith(("error[", "warning[")) for line in result.stderr.splitlines())
    return elapsed, scanned, parsed, problems


def measure(target: Path, runs: int) -> dict[str, object]:
    results = [run_once(target) for _ in range(runs)]
    elapsed, scanned, parsed, problems = min(results)
    return {
        "target": str(target),
        "files_scanned": scanned,
        "files_parsed": parsed,
        "problems_reported": problems,
        "best_seconds": round(elapsed, 3),
        "all_seconds": [round(r[0], 3) for r in results],
        "files_per_second": round(scanned / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    targets = args.paths or [
        Path(sysconfig.get_paths()["purelib"]),
        Path(sysconfig.get_paths()["stdlib"]),
    ]
    records = [measure(target.resolve(), args.runs) for target in targets]
    print(json.dumps(records, indent=2))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "scan_speed.json").write_text(json.dumps(records, indent=2) + "\n")


if __name__ == "__main__":
    main()
