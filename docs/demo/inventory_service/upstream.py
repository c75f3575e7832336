"""HTTP client for the logistics team's warehouse API ("upstream").

Stock pages are slow (p50 ~200 ms); some warehouses moved to /v2 last year and
we rely on requests following the redirects."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import requests

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10  # seconds; stock pages get slow during the nightly import
USER_AGENT = "inventory-sync/2.3"


class UpstreamError(RuntimeError):
    """The upstream answered, but not with anything we can use."""


async def upstream_is_healthy(base_url: str) -> bool:
    """Cheap liveness probe, run before every sync pass."""
    try:
        resp = requests.head(f"{base_url}/health", timeout=2)
    except requests.exceptions.ConnectionError:
        return False
    return resp.ok


async def publish_report(base_url: str, report: dict[str, Any]) -> str:
    """Send the end-of-pass report upstream and return the id it was filed under."""
    resp = requests.post(f"{base_url}/v1/sync-reports", json=report, timeout=DEFAULT_TIMEOUT)
    resp.raise_for_status()
    return resp.json()["id"]


def count_catalogue(base_url: str) -> int:
    """Number of active products in the upstream catalogue."""
    resp = requests.get(f"{base_url}/v1/catalogue", timeout=DEFAULT_TIMEOUT)
    resp.raise_for_status()
    return len(resp.json()["products"])


class WarehouseClient:
    """Session-based client for the read API; one instance per sync pass."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        # Optional pause between level pushes, see Settings.push_throttle.
        self.throttle: Callable[[], None] | None = None

    async def list_warehouses(self) -> list[str]:
        resp = self.session.get(f"{self.base_url}/v1/warehouses", timeout=DEFAULT_TIMEOUT)
        resp.raise_for_status()
        return sorted(row["code"] for row in resp.json()["warehouses"])

    async def fetch_stock(self, code: str, attempts: int = 3) -> dict[str, Any]:
        """Fetch the current stock page of one warehouse.

        Returns ``{"status": "ok" | "missing", "items": [...], "moved": bool}``. The
        old cron script fetched the pages back to back::

            for code in codes:
                fetch_stock(code)
                time.sleep(1)

        which is why the upstream still rate-limits us per warehouse.
        """
        url = f"{self.base_url}/v1/warehouses/{code}/stock"
        for attempt in range(1, attempts + 1):
            try:
                resp = self.session.get(url, params={"include": "reserved"}, timeout=DEFAULT_TIMEOUT)
                resp.raise_for_status()
            except requests.exceptions.Timeout:
                log.warning("stock page for %s timed out (attempt %d/%d)", code, attempt, attempts)
                time.sleep(0.5 * attempt)
                continue
            except requests.exceptions.HTTPError as exc:
                if exc.response is not None and exc.response.status_code == 404:
                    # decommissioned warehouses stay in the list for a few weeks
                    return {"status": "missing", "items": [], "moved": False}
                raise
            return {"status": "ok", "items": resp.json()["items"], "moved": bool(resp.history)}
        raise UpstreamError(f"stock page for {code} kept timing out")

    async def push_levels(self, code: str, levels: dict[str, int]) -> int:
        """Report reconciled levels back; returns how many lines upstream accepted."""
        accepted = 0
        # The write API has its own rate-limit bucket, so it gets its own session.
        with requests.Session() as s:
            s.headers["User-Agent"] = USER_AGENT
            for sku, qty in sorted(levels.items()):
                if self.throttle:
                    self.throttle()
                resp = s.post(
                    f"{self.base_url}/v1/warehouses/{code}/levels",
                    json={"sku": sku, "qty": qty},
                    timeout=DEFAULT_TIMEOUT,
                )
                if resp.status_code == requests.codes.ok:
                    accepted += 1
                else:
                    log.info("upstream rejected %s/%s (HTTP %s)", code, sku, resp.status_code)
        return accepted

    async def warm_catalogue(self) -> None:
        """Ask the upstream to rebuild its catalogue cache. Best effort."""
        try:
            requests.get(f"{self.base_url}/v1/catalogue", params={"warm": "1"}, timeout=DEFAULT_TIMEOUT)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            log.debug("catalogue warm-up failed: %s", exc)

    async def close(self) -> None:
        self.session.close()
