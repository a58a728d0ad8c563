"""Encrypted store vs plain SQLite: the same bulk insert + indexed query workload on 100,000 rows."""

from __future__ import annotations

import random
import sqlite3
from typing import Any

from int_desk.store import keys
from int_desk.store.engine import CACHE_KIB, open_connection
from tests.benchmarks.harness import Figure, scratch_dir, timed

ROWS = 100_000
LOOKUPS = 20_000
SCHEMA = (
    "CREATE TABLE patient (id TEXT PRIMARY KEY, nhs TEXT, given TEXT, family TEXT, dob TEXT, "
    "postcode TEXT, decile INTEGER)"
)


def _rows() -> list[tuple[Any, ...]]:
    rng = random.Random(1)
    return [
        (f"{i:032x}", f"999{i:07d}", rng.choice("ABCDEFG") * 5, f"Family{rng.randint(0, 5000)}",
         f"19{rng.randint(20, 60)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
         f"OX{rng.randint(1, 40)} {rng.randint(1, 9)}AB", rng.randint(1, 10))
        for i in range(ROWS)
    ]  # fmt: skip


def _workload(conn: Any, rows: list[tuple[Any, ...]]) -> float:
    rng = random.Random(2)
    probes = [f"999{rng.randrange(ROWS):07d}" for _ in range(LOOKUPS)]

    def work() -> None:
        cur = conn.cursor()
        cur.execute(SCHEMA)
        cur.execute("BEGIN")
        cur.executemany("INSERT INTO patient VALUES (?,?,?,?,?,?,?)", rows)
        cur.execute("COMMIT")
        cur.execute("CREATE INDEX ix_nhs ON patient(nhs)")
        cur.execute("CREATE INDEX ix_family ON patient(family)")
        for nhs in probes:
            cur.execute("SELECT * FROM patient WHERE nhs = ?", (nhs,)).fetchone()
        for n in range(200):
            cur.execute("SELECT count(*) FROM patient WHERE family = ?", (f"Family{n}",)).fetchone()
        cur.execute("SELECT count(*) FROM patient WHERE postcode LIKE 'OX1%'").fetchone()

    return timed(work)


def run() -> list[Figure]:
    rows = _rows()
    best_enc, best_plain = float("inf"), float("inf")
    for attempt in range(3):
        d = scratch_dir(f"store{attempt}")
        enc_path = d / "enc.db"
        enc_path.touch()
        enc = open_connection(enc_path, keys.new_data_key())
        enc.isolation_level = None
        best_enc = min(best_enc, _workload(enc, rows))
        enc.close()
        plain = sqlite3.connect(d / "plain.db", isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "temp_store = MEMORY",
                       f"cache_size = -{CACHE_KIB}", "foreign_keys = ON"):  # fmt: skip
            plain.execute(f"PRAGMA {pragma}")
        best_plain = min(best_plain, _workload(plain, rows))
        plain.close()
    ratio = best_enc / best_plain
    return [
        Figure("store: 100k insert+index+query, encrypted", best_enc, "s"),
        Figure("store: 100k insert+index+query, plain SQLite", best_plain, "s"),
        Figure("store: encrypted/plain ratio", ratio, "x", target=1.10),
    ]
