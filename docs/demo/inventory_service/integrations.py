"""Optional integrations, switched on per deployment (none run in a default pass).

Driver imports are guarded so hosts with only the core requirements still start."""

from __future__ import annotations

import json
import smtplib
import socket
import urllib.request
from email.message import EmailMessage
from typing import Any

try:
    import redis
except ImportError:  # optional: storefront cache
    redis = None

try:
    from pymongo import MongoClient
except ImportError:  # optional: reporting mirror
    MongoClient = None

try:
    import psycopg2
except ImportError:  # optional: BI warehouse export
    psycopg2 = None


async def publish_totals_to_cache(host: str, totals: dict[str, int], ttl: int = 900) -> None:
    """Mirror per-warehouse totals into the cache the storefront reads."""
    cache = redis.Redis(host=host, port=6379, db=0, socket_timeout=2)
    cache.hset("inventory:totals", mapping=totals)
    cache.expire("inventory:totals", ttl)


async def mirror_to_mongo(uri: str, levels: dict[str, int]) -> int:
    client = MongoClient(uri, serverSelectionTimeoutMS=2000)
    try:
        coll = client["inventory"]["stock_levels"]
        coll.delete_many({})
        result = coll.insert_many([{"key": k, "qty": v} for k, v in sorted(levels.items())])
        return len(result.inserted_ids)
    finally:
        client.close()


async def export_to_bi(dsn: str, levels: dict[str, int]) -> None:
    """Upsert the levels into the BI team's Postgres."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO stock_levels (key, qty) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET qty = EXCLUDED.qty",
                sorted(levels.items()),
            )
    finally:
        conn.close()


async def email_low_stock(smtp_host: str, recipients: list[str], low: dict[str, int]) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"[inventory] {len(low)} SKUs below threshold"
    msg["From"], msg["To"] = "inventory-sync@localhost", ", ".join(recipients)
    msg.set_content("\n".join(f"{key}: {qty}" for key, qty in sorted(low.items())))
    with smtplib.SMTP(smtp_host, 25, timeout=10) as smtp:
        smtp.send_message(msg)


async def push_metrics(host: str, port: int, totals: dict[str, int]) -> None:
    """Graphite plaintext protocol, one ``path value timestamp`` line per metric."""
    lines = "".join(f"inventory.{code}.total {qty} -1\n" for code, qty in sorted(totals.items()))
    with socket.create_connection((host, port), timeout=2) as sock:
        sock.sendall(lines.encode("ascii"))


async def notify_ops_webhook(url: str, payload: dict[str, Any]) -> int:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status


async def confirm_purge(count: int) -> bool:
    """Interactive guard for the purge command (ops laptops only)."""
    return input(f"Purge {count} stock rows? [y/N] ").strip().lower() == "y"
