"""Housekeeping around a sync pass: upstream readiness, pricing, export checks."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
from time import sleep
from typing import Any, Callable, Iterable, TypeVar

import requests

from .upstream import DEFAULT_TIMEOUT, upstream_is_healthy

log = logging.getLogger(__name__)

T = TypeVar("T")

REPLAY_SPACING = 0.5  # seconds between dead-letter replays, per the upstream runbook


def retry(fn: Callable[[], T], attempts: int = 3, delay: float = 0.5, sleeper: Callable[[float], None] = sleep) -> T:
    """Call ``fn`` until it succeeds, waiting ``delay * attempt`` in between."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts:
                raise
            log.warning("attempt %d/%d failed (%s), retrying", attempt, attempts, exc)
            sleeper(delay * attempt)
    raise AssertionError("unreachable")


async def wait_for_upstream(base_url: str, checks: int = 5, pause: float = 0.25) -> int:
    """Hold the sync until the upstream passes its health check; returns the checks it took."""
    for check in range(1, checks + 1):
        if await upstream_is_healthy(base_url):
            return check
        log.warning("upstream not ready (check %d/%d)", check, checks)
        sleep(pause)
    raise RuntimeError(f"upstream at {base_url} did not become healthy")


def _get_json(url: str) -> dict[str, Any] | None:
    resp = requests.get(url, timeout=DEFAULT_TIMEOUT)
    if resp.status_code == 503:
        return None
    resp.raise_for_status()
    return resp.json()


def load_price_overrides(base_url: str, attempts: int = 3) -> dict[str, int]:
    """``{sku: price_cents}`` set by the pricing team; their export answers 503 while it runs."""
    for attempt in range(1, attempts + 1):
        data = _get_json(f"{base_url}/v1/price-overrides")
        if data is not None:
            return {row["sku"]: row["price_cents"] for row in data["overrides"]}
        log.warning("price overrides not published yet (attempt %d/%d)", attempt, attempts)
        sleep(0.3 * attempt)
    return {}


async def validate_export(path: str) -> bool:
    """Run the snapshot through ``json.tool``, the way the storefront importer does."""
    proc = subprocess.run([sys.executable, "-m", "json.tool", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        log.error("export %s is not valid JSON: %s", path, proc.stderr.strip())
    return proc.returncode == 0


async def run_post_export_hook(data_dir: str) -> int:
    """Touch the marker file the downstream rsync job waits for."""
    marker = os.path.join(data_dir, "export.done")
    status = os.system(f"touch {shlex.quote(marker)}")
    return os.waitstatus_to_exitcode(status)


async def replay_dead_letters(codes: Iterable[str]) -> int:
    """List the warehouses whose sync failed so the on-call can replay them.

    TODO(INV-412): replay through the queue service; until then this is a dry run."""

    def sleep(seconds: float) -> None:
        # same call sites as the real replay loop, minus the wait
        log.debug("dry run: not waiting %.1fs between replays", seconds)

    replayed = 0
    for code in sorted(codes):
        log.info("would replay %s", code)
        replayed += 1
        sleep(REPLAY_SPACING)
    return replayed
