"""One sync pass over every warehouse the upstream knows about.

Production runs :func:`run_forever` from the systemd unit; the integration
tests call :func:`main`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import jobs
from .jobs import load_price_overrides, retry
from .storage import StockStore, save_audit
from .upstream import WarehouseClient, count_catalogue, publish_report

log = logging.getLogger("inventory_service")


@dataclass
class Settings:
    base_url: str
    data_dir: str
    token: str | None = None
    interval: float = 300.0  # seconds between passes in run_forever
    write_pause: float = 0.1  # upstream asked for a pause before each warehouse's writes
    push_throttle: float = 0.0  # ops knob from the 2022 upstream incident; off by default


async def sync_warehouse(client: WarehouseClient, store: StockStore, code: str, settings: Settings) -> dict:
    """Fetch, store and acknowledge the stock of one warehouse."""
    stock = await client.fetch_stock(code)
    if stock["status"] != "ok":
        return {"status": stock["status"], "items": 0, "accepted": 0, "moved": False, "levels": {}}
    levels = {item["sku"]: item["qty"] for item in stock["items"]}
    saved = await store.save_levels(code, levels)
    time.sleep(settings.write_pause)
    accepted = await client.push_levels(code, levels)
    return {"status": "ok", "items": saved, "accepted": accepted, "moved": stock["moved"], "levels": levels}


async def main(settings: Settings) -> dict[str, Any]:
    """Run one sync pass; returns the report that was filed upstream."""
    loop = asyncio.get_event_loop()
    started = loop.time()
    client = WarehouseClient(settings.base_url, settings.token)
    if settings.push_throttle:
        client.throttle = lambda: time.sleep(settings.push_throttle)
    store = StockStore(settings.data_dir)
    await store.open()

    health_checks = await jobs.wait_for_upstream(settings.base_url)
    codes = await client.list_warehouses()
    # Only fills the upstream's cache; nothing waits for it.
    asyncio.create_task(client.warm_catalogue())

    results = await asyncio.gather(*(sync_warehouse(client, store, code, settings) for code in codes))
    by_code = dict(zip(codes, results))

    overrides = load_price_overrides(settings.base_url)
    # retry() and count_catalogue() are synchronous, so they go to a worker thread.
    catalogue_size = await asyncio.to_thread(
        retry, partial(count_catalogue, settings.base_url), attempts=3, sleeper=time.sleep
    )

    previous = await store.load_previous_snapshot()
    levels = {f"{code}/{sku}": qty for code, r in by_code.items() for sku, qty in r["levels"].items()}
    changed = sorted(key for key, qty in levels.items() if previous.get(key) != qty)
    snapshot = await store.write_snapshot(levels)
    export_ok = await jobs.validate_export(snapshot)
    hook_status = await jobs.run_post_export_hook(settings.data_dir)
    failed = [code for code, r in by_code.items() if r["status"] != "ok"]
    replayed = await jobs.replay_dead_letters(failed)

    report: dict[str, Any] = {
        "health_checks": health_checks,
        "warehouses": {code: {k: r[k] for k in ("status", "items", "accepted", "moved")}
                       for code, r in by_code.items()},
        "price_overrides": len(overrides),
        "catalogue_size": catalogue_size,
        "snapshot_rows": len(levels),
        "changed": changed,
        "backup_kept": bool(previous),
        "export_valid": export_ok,
        "hook_status": hook_status,
        "dead_letters": replayed,
        "totals": await store.totals(),
    }
    report["report_id"] = await publish_report(settings.base_url, report)
    save_audit(settings.data_dir, "sync_finished", f"{len(codes)} warehouses, {len(changed)} changed")

    await client.close()
    await store.close()
    log.info("sync pass finished in %.2fs", loop.time() - started)
    return report


def run_forever(settings: Settings) -> None:
    """Entry point of the systemd unit: one pass every ``interval`` seconds."""
    while True:
        started = time.monotonic()
        try:
            asyncio.run(main(settings))
        except Exception:
            log.exception("sync pass failed")
        time.sleep(max(0.0, settings.interval - (time.monotonic() - started)))
