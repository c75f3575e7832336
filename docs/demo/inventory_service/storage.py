"""Local persistence: the sqlite stock table, the JSON snapshot, the audit log.

Everything lives under ``data_dir`` (``/var/lib/inventory-sync`` in production).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import sqlite3
import time as t

SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    warehouse  TEXT    NOT NULL,
    sku        TEXT    NOT NULL,
    qty        INTEGER NOT NULL,
    PRIMARY KEY (warehouse, sku)
)
"""

SNAPSHOT_NAME = "snapshot.json"


class StockStore:
    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir
        self.db_path = os.path.join(data_dir, "stock.sqlite3")
        self.conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        # check_same_thread=False: the nightly exporter reads through this
        # connection from its own worker thread.
        self.conn = sqlite3.connect(self.db_path, check_same_thread=False)
        self.conn.execute(SCHEMA)
        self.conn.commit()

    async def save_levels(self, warehouse: str, levels: dict[str, int]) -> int:
        rows = [(warehouse, sku, qty) for sku, qty in sorted(levels.items())]
        for attempt in range(1, 6):
            try:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO stock (warehouse, sku, qty) VALUES (?, ?, ?)",
                    rows,
                )
                self.conn.commit()
                break
            except sqlite3.OperationalError:
                # "database is locked" while the exporter holds it; back off a little
                t.sleep(0.05 * attempt)
        else:
            raise RuntimeError(f"could not save levels for {warehouse}: database locked")
        return len(rows)

    async def totals(self) -> dict[str, int]:
        cur = self.conn.execute(
            """
            SELECT warehouse, SUM(qty)
              FROM stock
             GROUP BY warehouse
             ORDER BY warehouse
            """
        )
        return {warehouse: total for warehouse, total in cur.fetchall()}

    async def load_previous_snapshot(self) -> dict[str, int]:
        path = pathlib.Path(self.data_dir) / SNAPSHOT_NAME
        if not path.exists():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))["levels"]

    async def write_snapshot(self, levels: dict[str, int]) -> str:
        """Write the snapshot, keeping the previous one as ``snapshot.json.bak``."""
        path = os.path.join(self.data_dir, SNAPSHOT_NAME)
        if os.path.exists(path):
            shutil.copy(path, path + ".bak")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"version": 2, "levels": levels}, fh, indent=2, sort_keys=True)
        return path

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


async def save_audit(data_dir: str, event: str, detail: str) -> None:
    """Append one line to the audit log (kept for the quarterly stock audit)."""
    line = json.dumps({"ts": round(t.time(), 3), "event": event, "detail": detail})
    with open(os.path.join(data_dir, "audit.log"), "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
