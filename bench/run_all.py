"""`make bench`: every intake benchmark, briefly, one after the other, and one JSON summary.

P1 on PostgreSQL (engine and raw-asyncpg baseline in the same run), P1 on the embedded default
(SQLite + embedded Redis, same client) and P5 (verified PSP webhooks against a bare handler).
The machine's load average is printed with the figures: on a shared 2-core machine a ratio only
means something beside it. The full summary of each benchmark is kept under "runs".

    python bench/run_all.py [--seconds 8] [--database-url …] [--redis-url …]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(script: str, *args: str) -> dict[str, Any]:
    """One benchmark as its own process (its stdout is its JSON summary)."""
    started, before = time.monotonic(), load()
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": f"{script} exited with {done.returncode}", "stderr": done.stderr[-2000:]}
    summary: dict[str, Any] = json.loads(done.stdout)
    summary["load_average_before"], summary["load_average_after"] = before, load()
    summary["wall_s"] = round(time.monotonic() - started, 1)
    return summary


def headline(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    p1, embedded, p5 = runs["p1_postgres"], runs["p1_embedded"], runs["p5_webhooks"]
    out: dict[str, Any] = {}
    if "engine" in p1:
        out["p1_postgres"] = {
            "orders_per_s": p1["engine"]["orders_per_s"],
            "p50_ms": p1["engine"]["p50_ms"],
            "p99_ms": p1["engine"]["p99_ms"],
            "baseline_orders_per_s": p1["baseline"]["orders_per_s"],
            "baseline_p99_ms": p1["baseline"]["p99_ms"],
            "throughput_ratio": p1["throughput_ratio"],
            "p99_ratio": p1["p99_ratio"],
            "met": p1["met"],
            "load_average": p1["load_average_before"],
        }
    if "engine" in embedded:
        out["p1_embedded"] = {
            "orders_per_s": embedded["engine"]["orders_per_s"],
            "p50_ms": embedded["engine"]["p50_ms"],
            "p99_ms": embedded["engine"]["p99_ms"],
            "consistent": embedded["consistent"]["ok"],
            "load_average": embedded["load_average_before"],
        }
    if "engine" in p5:
        out["p5_webhooks"] = {
            "events_per_s": p5["engine"]["events_per_s"],
            "baseline_events_per_s": p5["baseline"]["events_per_s"],
            "ratio": p5["ratio"],
            "ratio_met": p5["ratio_met"],
            "target_per_s_met": p5["target_met"],
            "load_average": p5["load_average_before"],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", default="8", help="measured seconds per server")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    services = ["--database-url", args.database_url, "--redis-url", args.redis_url]
    runs = {
        "p1_postgres": run("p1_order_intake.py", "--seconds", args.seconds, *services),
        "p1_embedded": run("p1_embedded.py", "--seconds", args.seconds),
        "p5_webhooks": run("p5_webhook_intake.py", "--seconds", args.seconds, *services),
    }
    print(json.dumps({"cpus": os.cpu_count(), "summary": headline(runs), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
