"""The adaptive selector's store: run-time statistics per (plan, size bucket, backend) in a
small sqlite file, shared by every process of the user.

Safe under concurrent processes: the file is in WAL mode (readers never block the writer),
every update is one ``BEGIN IMMEDIATE`` transaction (the write lock is taken before anything
is read, so no two processes interleave a read and a write) whose statements are upserts of
running sums (``runs = runs + 1``), and a busy timeout makes a process wait for another's
write instead of failing. A file that is not this store (garbage, truncated, another schema
or version) is moved aside and recreated with a warning naming it; a folder that cannot be
written is reported once and the store lives in memory for the process. The store never
makes a computation fail: an error while recording is a warning.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Arm",
    "Store",
    "StoreError",
    "store_path",
    "open_store",
    "forget_stores",
    "SCHEMA_VERSION",
    "SAMPLES_KEPT",
]

SCHEMA_VERSION = 1
APPLICATION_ID = 0x6C736466  # "lsdf": marks the file as this store
SAMPLES_KEPT = 32
"""Recent run times kept per arm (for the median ``explain`` shows)."""
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = (
    """CREATE TABLE arms (
        plan TEXT NOT NULL, bucket TEXT NOT NULL, backend TEXT NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0,
        sum_log REAL NOT NULL DEFAULT 0.0,
        sum_log2 REAL NOT NULL DEFAULT 0.0,
        cold_runs INTEGER NOT NULL DEFAULT 0,
        cold_sum_log REAL NOT NULL DEFAULT 0.0,
        explored INTEGER NOT NULL DEFAULT 0,
        slowed INTEGER NOT NULL DEFAULT 0,
        out_until INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (plan, bucket, backend))""",
    """CREATE TABLE samples (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        plan TEXT NOT NULL, bucket TEXT NOT NULL, backend TEXT NOT NULL,
        seconds REAL NOT NULL, cold INTEGER NOT NULL)""",
    "CREATE INDEX samples_arm ON samples (plan, bucket, backend, id)",
)
_COLUMNS = {
    "arms": [
        "plan",
        "bucket",
        "backend",
        "runs",
        "sum_log",
        "sum_log2",
        "cold_runs",
        "cold_sum_log",
        "explored",
        "slowed",
        "out_until",
    ],
    "samples": ["id", "plan", "bucket", "backend", "seconds", "cold"],
}


def store_path() -> Path:
    """``$LITSDF_CACHE_DIR/selector.sqlite``, default ``~/.cache/litsdf/selector.sqlite``
    (the cache folder of the numba kernels and, by default, of the calibrated profile)."""
    root = os.environ.get("LITSDF_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "litsdf"
    return base / "selector.sqlite"


@dataclass(frozen=True)
class Arm:
    """What the store knows of one backend for one (plan, size bucket).

    Attributes
    ----------
    backend : str
    runs, sum_log, sum_log2 : int, float, float
        Warm runs (not the first of the backend on the plan in its process) and the running
        sums of their natural-log run times.
    cold_runs, cold_sum_log : int, float
        First runs in a process (they include imports and compilation).
    explored : int
        Runs the selector chose to explore (not the best estimate).
    slowed, out_until : int
        How many times the arm was found more than twice as slow as the best, and the run
        count of the key before which it is not chosen again.
    recent : tuple of float
        The latest warm run times in seconds (cold ones when there are none), newest last.
    """

    backend: str
    runs: int = 0
    sum_log: float = 0.0
    sum_log2: float = 0.0
    cold_runs: int = 0
    cold_sum_log: float = 0.0
    explored: int = 0
    slowed: int = 0
    out_until: int = 0
    recent: tuple[float, ...] = ()

    @property
    def attempts(self) -> int:
        """Every run, warm and cold."""
        return self.runs + self.cold_runs

    @property
    def mean_log(self) -> float | None:
        """Mean log time of the warm runs, else of the cold ones (``None``: never ran)."""
        if self.runs:
            return self.sum_log / self.runs
        if self.cold_runs:
            return self.cold_sum_log / self.cold_runs
        return None

    @property
    def median_seconds(self) -> float | None:
        """Median of the recent run times."""
        if not self.recent:
            return None
        s = sorted(self.recent)
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else math.sqrt(s[mid - 1] * s[mid])


class StoreError(Exception):
    """The file is not a valid store (the message says why)."""


class Store:
    """The statistics of one sqlite file (or of memory, ``path=None``), thread-safe.

    Parameters
    ----------
    path : Path or None
        The file; ``None`` keeps the statistics in memory for this process.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = self._open()

    # -- opening -------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            conn = self._connect(":memory:")
            self._create(conn)
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)  # (OSError: the caller's)
        try:
            conn = self._connect(str(self.path))
            self._prepare(conn)
            return conn
        except sqlite3.OperationalError:
            raise  # (cannot open, locked, read-only: not the file's content)
        except (sqlite3.DatabaseError, StoreError) as err:
            self._recreate(err)
        conn = self._connect(str(self.path))
        self._prepare(conn)
        return conn

    @staticmethod
    def _connect(where: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            where, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """WAL mode, then the schema checked (an empty file gets it)."""
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = NORMAL")  # (WAL: no corruption, no fsync a run)
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not r[0].startswith("sqlite_")
            }
            if app == 0 and version == 0 and not tables:
                conn.execute("BEGIN IMMEDIATE")
                try:  # (another process may have created it meanwhile)
                    if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                        self._create(conn, begun=True)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                return
            if app != APPLICATION_ID:
                raise StoreError(f"not a litsdf selector store (application id {app:#x})")
            if version != SCHEMA_VERSION:
                raise StoreError(f"schema version {version}, expected {SCHEMA_VERSION}")
            for table, columns in _COLUMNS.items():
                found = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                if found != columns:
                    raise StoreError(f"table {table!r} has columns {found}, expected {columns}")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StoreError(f"integrity check failed: {check}")
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _create(conn: sqlite3.Connection, begun: bool = False) -> None:
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _recreate(self, err: Exception) -> None:
        assert self.path is not None
        aside = self.path.with_name(f"{self.path.name}.corrupt-{os.getpid()}")
        warnings.warn(
            f"the litsdf selector store {self.path} is unreadable ({err}); it is moved to "
            f"{aside} and recreated (what the adaptive selector learned is lost)",
            RuntimeWarning,
            stacklevel=5,
        )
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):  # (another process moved it first)
            os.replace(self.path, aside)

    # -- reading and writing -------------------------------------------------------------------
    def arms(self, plan: str, bucket: str) -> dict[str, Arm]:
        """Every arm the store knows for ``(plan, bucket)`` by backend name."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT backend, runs, sum_log, sum_log2, cold_runs, cold_sum_log, explored, "
                "slowed, out_until FROM arms WHERE plan = ? AND bucket = ?",
                (plan, bucket),
            ).fetchall()
            recent: dict[str, list[tuple[float, int]]] = {}
            for backend, seconds, cold in self._conn.execute(
                "SELECT backend, seconds, cold FROM samples WHERE plan = ? AND bucket = ? "
                "ORDER BY id",
                (plan, bucket),
            ):
                recent.setdefault(backend, []).append((seconds, cold))
        out = {}
        for backend, runs, s1, s2, cold_runs, cold_s1, explored, slowed, out_until in rows:
            samples = recent.get(backend, [])
            warm = tuple(s for s, cold in samples if not cold)
            out[backend] = Arm(
                backend,
                runs,
                s1,
                s2,
                cold_runs,
                cold_s1,
                explored,
                slowed,
                out_until,
                recent=warm or tuple(s for s, _ in samples),
            )
        return out

    def record(
        self,
        plan: str,
        bucket: str,
        backend: str,
        seconds: float,
        cold: bool,
        explored: bool,
        slow_factor: float = 2.0,
        backoff: int = 50,
    ) -> None:
        """Add one run of ``backend`` to the statistics of ``(plan, bucket)``, in one
        transaction; a warm run that leaves the arm's mean more than ``slow_factor`` times
        the best other arm's puts it out for ``backoff * 2**slowed`` runs of the key (see
        :meth:`_mark_slow`)."""
        log_t = math.log(max(seconds, 1e-9))
        warm = 0 if cold else 1
        with self._lock:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute(
                    "INSERT INTO arms (plan, bucket, backend, runs, sum_log, sum_log2, "
                    "cold_runs, cold_sum_log, explored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (plan, bucket, backend) DO UPDATE SET "
                    "runs = runs + excluded.runs, sum_log = sum_log + excluded.sum_log, "
                    "sum_log2 = sum_log2 + excluded.sum_log2, "
                    "cold_runs = cold_runs + excluded.cold_runs, "
                    "cold_sum_log = cold_sum_log + excluded.cold_sum_log, "
                    "explored = explored + excluded.explored",
                    (
                        plan,
                        bucket,
                        backend,
                        warm,
                        log_t * warm,
                        log_t * log_t * warm,
                        1 - warm,
                        log_t * (1 - warm),
                        int(explored),
                    ),
                )
                c.execute(
                    "INSERT INTO samples (plan, bucket, backend, seconds, cold) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (plan, bucket, backend, seconds, 1 - warm),
                )
                c.execute(
                    "DELETE FROM samples WHERE plan = ? AND bucket = ? AND backend = ? AND id <= "
                    "(SELECT id FROM samples WHERE plan = ? AND bucket = ? AND backend = ? "
                    "ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (plan, bucket, backend, plan, bucket, backend, SAMPLES_KEPT),
                )
                if warm:
                    self._mark_slow(plan, bucket, backend, slow_factor, backoff)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def _mark_slow(
        self, plan: str, bucket: str, backend: str, slow_factor: float, backoff: int
    ) -> None:
        """(Inside the write transaction.) Put out the arms whose warm mean is more than
        ``slow_factor`` times the best other warm mean of the key: ``backend`` (the arm just
        run: each confirmation doubles its time out) and every arm never put out before."""
        c = self._conn
        rows = c.execute(
            "SELECT backend, sum_log / runs, slowed FROM arms WHERE plan = ? AND bucket = ? "
            "AND runs > 0",
            (plan, bucket),
        ).fetchall()
        if len(rows) < 2:
            return
        total = c.execute(
            "SELECT SUM(runs + cold_runs) FROM arms WHERE plan = ? AND bucket = ?",
            (plan, bucket),
        ).fetchone()[0]
        for name, mean, slowed in rows:
            best_other = min(m for n, m, _ in rows if n != name)
            if mean <= best_other + math.log(slow_factor) or (name != backend and slowed):
                continue
            c.execute(
                "UPDATE arms SET out_until = ? + ? * (1 << MIN(slowed, 20)), "
                "slowed = slowed + 1 WHERE plan = ? AND bucket = ? AND backend = ?",
                (total, backoff, plan, bucket, name),
            )

    def clear(self) -> None:
        """Forget every statistic (all plans)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("DELETE FROM arms")
            self._conn.execute("DELETE FROM samples")
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_STORES: dict[Path, Store] = {}
_MEMORY: list[Store] = []
_WARNED: set[str] = set()


def open_store(path: Path | None = None) -> Store:
    """The store of ``path`` (default :func:`store_path`), opened once per process; in memory
    (with one warning) when its folder cannot be written."""
    p = path if path is not None else store_path()
    hit = _STORES.get(p)
    if hit is not None:
        return hit
    try:
        store = Store(p)
    except (OSError, sqlite3.Error, StoreError) as err:
        if str(p) not in _WARNED:
            _WARNED.add(str(p))
            warnings.warn(
                f"the litsdf selector store {p} cannot be used ({err}); the adaptive selector "
                "keeps its statistics in memory for this process",
                RuntimeWarning,
                stacklevel=3,
            )
        if not _MEMORY:
            _MEMORY.append(Store(None))
        _STORES[p] = _MEMORY[0]
        return _MEMORY[0]
    _STORES[p] = store
    return store


def forget_stores() -> None:
    """Close every open store (the next use opens the file again)."""
    for store in {id(s): s for s in [*_STORES.values(), *_MEMORY]}.values():
        store.close()
    _STORES.clear()
    _MEMORY.clear()
    _WARNED.clear()
