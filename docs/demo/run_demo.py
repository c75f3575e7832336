#!/usr/bin/env python3
"""Run one sync pass of ``inventory_service`` against a throwaway upstream.

    python docs/demo/run_demo.py

Starts a small HTTP server on 127.0.0.1 (random port) that plays the
logistics team's warehouse API, runs the service's asyncio ``main`` against it
with a temporary data directory, and meanwhile measures how late a 10 ms
heartbeat coroutine wakes up: the longest delay is how long the event loop was
frozen at a stretch. Needs Python 3.9+ and ``requests`` (``httpx`` once the
code has been rewritten by ``unfreeze fix --write``). Nothing is written next
to the sources and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

sys.dont_write_bytecode = True  # keep docs/demo free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from inventory_service.app import Settings, main  # noqa: E402

SLOW = 0.2  # seconds: the upstream's stock and catalogue pages are slow
HEARTBEAT = 0.01

WAREHOUSES = ["oslo", "berlin", "lyon"]  # oslo was decommissioned: its stock page is a 404
STOCK = {
    "berlin": [
        {"sku": "BX-100", "qty": 12},
        {"sku": "BX-200", "qty": 7},
        {"sku": "BX-300", "qty": 0},
        {"sku": "BX-400", "qty": 31},
        {"sku": "BX-900", "qty": -2},  # bad row: the write API answers 422 for it
    ],
    "lyon": [  # served under /v2; /v1 answers with a 301
        {"sku": "LY-110", "qty": 4},
        {"sku": "LY-120", "qty": 18},
        {"sku": "LY-130", "qty": 9},
        {"sku": "LY-140", "qty": 2},
    ],
}
CATALOGUE = [f"P-{n:03d}" for n in range(1, 8)]
PRICE_OVERRIDES = [{"sku": "BX-100", "price_cents": 1299}, {"sku": "LY-130", "price_cents": 450}]
PREVIOUS_SNAPSHOT = {
    "berlin/BX-100": 12,
    "berlin/BX-200": 9,
    "berlin/BX-400": 31,
    "lyon/LY-110": 4,
    "lyon/LY-120": 15,
    "oslo/OS-001": 3,
}


class FakeUpstream(BaseHTTPRequestHandler):
    """The warehouse API, reduced to what one sync pass calls."""

    hits: dict[str, int] = {}
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the demo's output readable

    def _hit(self, key: str) -> int:
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]

    def _send(self, status: int, body: object = None, location: str | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if url.path == "/health":
            # the first probe arrives while the upstream is still starting
            ready = self._hit("health") > 1
            self._send(200 if ready else 503, {"ready": ready})
        elif url.path == "/v1/warehouses":
            self._send(200, {"warehouses": [{"code": code} for code in WAREHOUSES]})
        elif url.path == "/v1/warehouses/lyon/stock":
            query = f"?{url.query}" if url.query else ""
            self._send(301, {"moved": True}, location=f"/v2/warehouses/lyon/stock{query}")
        elif len(parts) == 4 and parts[0] in ("v1", "v2") and parts[1] == "warehouses" and parts[3] == "stock":
            time.sleep(SLOW)
            if parts[2] in STOCK:
                self._send(200, {"warehouse": parts[2], "items": STOCK[parts[2]]})
            else:
                self._send(404, {"error": f"unknown warehouse {parts[2]}"})
        elif url.path == "/v1/catalogue":
            time.sleep(SLOW)
            self._send(200, {"products": CATALOGUE})
        elif url.path == "/v1/price-overrides":
            # the pricing export is still running on the first call
            if self._hit("price-overrides") == 1:
                self._send(503, {"error": "pricing export in progress"})
            else:
                self._send(200, {"overrides": PRICE_OVERRIDES})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if len(parts) == 4 and parts[:2] == ["v1", "warehouses"] and parts[3] == "levels":
            if not isinstance(body.get("qty"), int) or body["qty"] < 0:
                self._send(422, {"error": "qty must be a non-negative integer"})
            else:
                self._send(200, {"accepted": True})
        elif url.path == "/v1/sync-reports":
            self._send(201, {"id": f"rpt-{self._hit('reports'):04d}"})
        else:
            self._send(404, {"error": "not found"})


async def heartbeat(lag: list[float]) -> None:
    """Tick every HEARTBEAT seconds and record the worst late wake-up."""
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + HEARTBEAT
        await asyncio.sleep(HEARTBEAT)
        lag[0] = max(lag[0], loop.time() - expected)


async def run_pass(settings: Settings) -> tuple[dict, float]:
    lag = [0.0]
    beat = asyncio.create_task(heartbeat(lag))
    await asyncio.sleep(HEARTBEAT)  # let the heartbeat get going first
    try:
        report = await main(settings)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    return report, lag[0]


def print_report(report: dict) -> None:
    print(f"upstream healthy after {report['health_checks']} checks")
    print(f"warehouses: {len(report['warehouses'])}")
    for code, w in sorted(report["warehouses"].items()):
        moved = "  (redirected to /v2)" if w["moved"] else ""
        print(f"  {code:<7} {w['status']:<8} {w['items']} items, {w['accepted']} accepted{moved}")
    print(f"price overrides: {report['price_overrides']}")
    print(f"catalogue: {report['catalogue_size']} products")
    backup = ", previous kept as snapshot.json.bak" if report["backup_kept"] else ""
    print(f"snapshot: {report['snapshot_rows']} rows, {len(report['changed'])} changed{backup}")
    print(f"  changed: {', '.join(report['changed'])}")
    print(f"export valid: {'yes' if report['export_valid'] else 'NO'}, post-export hook exit {report['hook_status']}")
    print(f"dead letters (dry run): {report['dead_letters']}")
    print("totals: " + ", ".join(f"{code}={qty}" for code, qty in report["totals"].items()))
    print(f"report filed as {report['report_id']}")


def main_demo() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeUpstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="fake-upstream", daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory(prefix="inventory-demo-") as data_dir:
            with open(os.path.join(data_dir, "snapshot.json"), "w", encoding="utf-8") as fh:
                json.dump({"version": 2, "levels": PREVIOUS_SNAPSHOT}, fh)
            started = time.perf_counter()
            report, lag = asyncio.run(run_pass(Settings(base_url=base_url, data_dir=data_dir)))
            wall = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
    print_report(report)
    print(f"max loop lag: {lag:.2f}s")
    print(f"wall time: {wall:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main_demo())
