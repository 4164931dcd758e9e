"""Chat round trip: a customer's message over the engine's WebSocket until its ack (stored and
committed), against a bare WebSocket echo server in the same run (the floor a socket costs).

    python bench/chat_roundtrip.py [--messages 300] [--clients 4]

Prints one JSON summary: p50/p95 latency of both, their ratio, and the load average. Uses a
throwaway data dir (SQLite + embedded Redis) unless EMPORIO_DATABASE_URL / EMPORIO_REDIS_URL are
set; nothing is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, messages: int, make_frame: Any, ack_type: str | None) -> list[float]:
    latencies = []
    async with websockets.connect(url) as ws:
        for n in range(messages):
            started = time.perf_counter()
            await ws.send(make_frame(n))
            while True:
                reply = await ws.recv()
                if ack_type is None or json.loads(reply).get("type") == ack_type:
                    break
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def echo_baseline(messages: int, clients: int) -> list[float]:
    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    port = free_port()
    async with websockets.serve(echo, "127.0.0.1", port):
        runs = await asyncio.gather(
            *(measure(f"ws://127.0.0.1:{port}", messages, lambda n: json.dumps({"body": f"m{n}"}), None)
              for _ in range(clients))
        )  # fmt: skip
    return [v for run in runs for v in run]


async def engine(messages: int, clients: int) -> list[float]:
    from api.app import create_app
    from core.access import apikeys
    from core.runtime import Runtime

    runtime = Runtime()
    app = create_app(runtime)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets"))
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        async with runtime.db.write():
            key = (await apikeys.create_key("bench-storefront", ["storefront"])).key
        tokens = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for c in range(clients):
                opened = await http.post(
                    "/v1/chat/sessions",
                    json={"customer": {"email": f"bench{c}@example.gr", "name": f"Bench {c}"}},
                    headers={"Authorization": f"Bearer {key}"},
                )
                opened.raise_for_status()
                tokens.append(opened.json()["token"])
        runs = await asyncio.gather(
            *(measure(f"ws://127.0.0.1:{port}/v1/chat/ws?token={token}", messages,
                      lambda n: json.dumps({"type": "message", "body": f"Μήνυμα {n}", "client_id": f"c{n}"}), "ack")
              for token in tokens)
        )  # fmt: skip
        return [v for run in runs for v in run]
    finally:
        server.should_exit = True
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300, help="messages per client")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.setdefault("EMPORIO_DATA_DIR", data_dir)
        os.environ["EMPORIO_DISPATCH_TIMES"] = ""
        os.environ.setdefault("EMPORIO_LOG_LEVEL", "warning")
        bare = asyncio.run(echo_baseline(args.messages, args.clients))
        ours = asyncio.run(engine(args.messages, args.clients))
    summary = {
        "benchmark": "chat round trip (message → stored → ack)",
        "database": "postgresql" if os.environ.get("EMPORIO_DATABASE_URL", "").startswith("postgres") else "sqlite",
        "messages": len(ours),
        "clients": args.clients,
        "engine_ms": {"p50": statistics.median(ours), "p95": percentile(ours, 0.95)},
        "bare_echo_ms": {"p50": statistics.median(bare), "p95": percentile(bare, 0.95)},
        "p95_ratio": percentile(ours, 0.95) / percentile(bare, 0.95),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
