"""The headless sync engine: push the outbox, pull the server's changes, verify, report.

    result = SyncEngine(ws, endpoint, token).run()       # or sync_workspace(ws)

One cycle = push (batches with op ids; each result committed on its own), pull (pages after an
opaque cursor; each page and its cursor in one transaction; rows with unsent edits untouched),
verify (counts and id digests per entity) and, on a mismatch or a 410 for a stale cursor, a full
re-download of the scope that keeps the outbox. An endpoint that advertises it answers a usual
cycle (one batch, one page) in one request, ``POST /v1/cycle``; anything else, or any refusal
there, takes the three requests. Network and server failures are retried with
exponential backoff and full jitter (or after the Retry-After a busy server asks for); ``cancel`` (a threading.Event) stops between steps.
No Qt here: the app runs this on a worker thread and shows the result.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gc
import json
import logging
import os
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import orjson
import tenacity

from int_desk import __version__
from int_desk.domain.errors import Interrupted, SyncError, SyncErrorKind
from int_desk.domain.wording import plural
from int_desk.store.base import utcnow
from int_desk.store.workspace import Workspace
from int_desk.sync import credentials, incoming, local
from int_desk.wire import protocol as P

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total or 0 when unknown)
HASH_EVERY = 3600.0  # seconds between full id-digest checks (counts are checked every cycle)
UPDATE_APP = "The sync server needs a different version of INT Desk: update the app to sync."
STUCK = (
    "The sync server sent a page of changes it had already sent, so the download was not "
    "moving on: sync stopped, keeping everything received, and will try again later."
)


class _CursorStale(Exception):
    pass


class _Restored(Exception):
    """The endpoint's database was restored from a backup since this laptop last synced."""

    def __init__(self, generation: str, since: int) -> None:
        super().__init__(generation)
        self.generation, self.since = generation, since


_TLS: dict[tuple[str | None, str | None], ssl.SSLContext] = {}
_TLS_LOCK = threading.Lock()


def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS trust (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once per
    process: building it reads the whole CA bundle, about 50 ms that every cycle used to pay
    (also for plain-HTTP endpoints, since httpx builds it when a client is made)."""
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _TLS_LOCK:
        if key not in _TLS:
            _TLS[key] = httpx.create_ssl_context()
        return _TLS[key]


@dataclass
class SyncResult:
    ok: bool = False
    pushed: int = 0
    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    pulled: int = 0
    skipped: int = 0
    purged: int = 0
    quarantined: int = 0  # rows from the server this laptop could not store: set aside
    redownloaded: bool = False
    resent: int = 0  # rows sent again because the endpoint was restored from a backup
    verified: bool | None = None
    pending: int = 0
    retries: int = 0
    seconds: float = 0.0
    error: str | None = None
    error_kind: str | None = None
    finished_at: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            return f"Sync failed: {self.error}"
        parts = [f"sent {self.pushed}", f"received {self.pulled}"]
        if self.conflicts:
            parts.append(f"{plural(self.conflicts, 'conflict')} to resolve")
        if self.rejected:
            parts.append(f"{plural(self.rejected, 'edit')} refused")
        if self.purged:
            parts.append(f"{plural(self.purged, 'patient')} left your teams")
        if self.quarantined:
            parts.append(
                f"{plural(self.quarantined, 'record')} from the server could not be stored and were set "
                "aside (ask your administrator to repair them)"
            )
        if self.resent:
            parts.append(f"{plural(self.resent, 'record')} the restored server had lost sent again")
        if self.redownloaded:
            parts.append("re-downloaded")
        parts.append(f"{self.pending} waiting")
        return "Synced: " + ", ".join(parts) + f" ({self.seconds:.1f} s)."


class SyncEngine:
    def __init__(
        self,
        ws: Workspace,
        endpoint: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        backoff_cap: float = 8.0,
        retry_after_cap: float = 60.0,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
        push_batch: int = P.PUSH_BATCH,
        pull_page: int = P.PULL_PAGE,
        verify: bool = True,
        full_verify: bool = False,
        connect_timeout: float = 10.0,
        quick_offline: bool = False,
    ) -> None:
        self.ws = ws
        self.retries, self.retry_after_cap = retries, retry_after_cap
        # Full jitter: a wait drawn from 0 to 2**try x ``backoff``, never above ``backoff_cap``.
        self._jitter = tenacity.wait_random_exponential(multiplier=2 * backoff, max=backoff_cap)
        self.cancel = cancel or threading.Event()
        self.progress = progress or (lambda _stage, _done, _total: None)
        self.push_batch, self.pull_page, self.do_verify = push_batch, pull_page, verify
        self.full_verify = full_verify
        with ws.session() as s:
            self.generation = local.state(s, local.GENERATION)  # the endpoint's, when last synced
            # The one-request cycle's path, once the endpoint has advertised it (CYCLE_HEADER).
            self.cycle_path = P.CYCLE_PATH if local.state(s, local.CYCLE) else ""
        self.http = httpx.Client(
            base_url=endpoint,  # (httpx joins it to each path with or without a final "/")
            verify=_tls_context(),
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
            headers={
                "Authorization": f"Bearer {token}",
                P.PROTOCOL_HEADER: str(P.PROTOCOL_VERSION),
                "User-Agent": f"INT-Desk/{__version__}",
                **({P.GENERATION_HEADER: self.generation} if self.generation else {}),
            },
        )
        self.result = SyncResult()
        self._aside: list[str] = []  # quarantine keys written this cycle
        self.reached = False  # has the server answered at all in this cycle?
        self.columns = True  # ask for full pages in the column form (until an endpoint refuses)
        # The app's cycles: when nothing answers at all, report offline at once rather than
        # after a minute of retries (its next cycle tries again).
        self.quick_offline = quick_offline

    # --- the cycle ----------------------------------------------------------------------------

    def run(self) -> SyncResult:
        start = time.perf_counter()
        r = self.result
        try:
            try:
                self._cycle()
            except _Restored as restored:
                self._recover(restored)
                self._cycle()
            r.ok = True
            with self.ws.session() as s:  # all still set aside, not only this cycle's
                r.quarantined = len(incoming.quarantined(s))
            if self._aside:
                r.notes.append(f"{plural(len(set(self._aside)), 'record')} set aside this time")
        except SyncError as exc:
            r.error, r.error_kind = str(exc), exc.kind.value
        except Interrupted as exc:
            r.error, r.error_kind = str(exc), "interrupted"
        finally:
            self.http.close()
            r.seconds = time.perf_counter() - start
            r.finished_at = utcnow().isoformat(timespec="seconds")
            with self.ws.session() as s:
                r.pending = local.pending_count(s)
                if r.ok:
                    local.set_state(s, local.LAST_SYNC_AT, r.finished_at)
                    if self.generation:
                        local.set_state(s, local.GENERATION, self.generation)
                    local.set_state(s, local.CYCLE, "1" if self.cycle_path else None)
                local.set_state(s, local.LAST_RESULT, json.dumps(asdict(r)))
        log.info(
            "sync ok=%s pushed=%d pulled=%d conflicts=%d rejected=%d pending=%d %.2fs",
            r.ok, r.pushed, r.pulled, r.conflicts, r.rejected, r.pending, r.seconds,
        )  # fmt: skip
        return r

    def _cycle(self) -> None:
        if self.cycle_path and self._whole_cycle():
            return
        self._push()
        self._pull()
        if self.do_verify:
            self._verify()

    def _whole_cycle(self) -> bool:
        """The cycle in one request (push, one incremental page, verify counts), when the outbox
        fits one batch and the laptop holds a cursor: True when done. False, with nothing
        applied, when the three requests should make it instead: a refusal there (a push's
        422 names its ops there; a stale cursor's 410 re-downloads there; an endpoint gone
        back to a version without the route answers 404 and is not asked again). An answer
        lost after the endpoint stored the push is sent again with the same op ids: a replay."""
        with self.ws.session() as s:
            cursor = local.state(s, local.CURSOR)
            redownload = local.state(s, local.REDOWNLOAD) == "1"
            pending = local.pending_count(s)
        if cursor is None or redownload or pending > self.push_batch:
            return False
        self._check_cancel()
        ops = local.next_batch(self.ws, self.push_batch) if pending else []
        body: dict[str, Any] = {
            "pull": {"cursor": cursor, "limit": self.pull_page},
            "verify": self.do_verify,
        }
        if ops:
            self.progress("push", 0, len(ops))
            body["push"] = {"batch_id": str(uuid.uuid4()), "ops": ops}
        try:
            reply = self._call("POST", self.cycle_path, body)
        except (_Refused, _CursorStale) as exc:
            if isinstance(exc, _Refused) and exc.status in (404, 405):
                log.info("the sync server no longer answers a cycle in one request")
                self.cycle_path = ""
            return False
        if ops:
            self._count_results(reply["push"]["results"])
        page = reply["pull"]
        if page is None:  # the cursor was stale (``gone``); the push is stored
            self._stale_cursor()
            if self.do_verify:
                self._verify()
            return True
        if self._apply_page(page):
            self._pull_incremental(page["cursor"])
            server = None  # counted before the pages after: asked again
        else:
            server = (reply.get("verify") or {}).get("entities")
        if self.do_verify:
            self._verify(server=server)
        return True

    def _recover(self, restored: _Restored) -> None:
        """The endpoint went back in time (restored from a backup): read everything it holds
        in this laptop's scope, queue what this laptop holds that it lost (``local.resend_lost``)
        and re-download after sending it. Nothing is applied before that, so nothing is lost."""
        log.warning("the sync server was restored from a backup: sending again what it lost")
        self.generation = restored.generation
        self.http.headers[P.GENERATION_HEADER] = restored.generation
        server: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        after = ""
        while True:
            self._check_cancel()
            body: dict[str, Any] = {"full": True, "limit": max(self.pull_page, P.MAX_PULL_PAGE)}
            page = self._page({**body, **({"after": after} if after else {})})
            _moved_on(page, "after", after)
            for row in page["changes"]:
                data = dict(row["data"])
                data["deleted"] = row["del"]
                server[(row["e"], row["id"].replace("-", ""))] = (row["v"], data)
            if not page.get("has_more"):
                break
            after = page["after"]
        with local.apply_session(self.ws) as s:
            self.result.resent = local.resend_lost(s, server, restored.since)
            local.set_state(s, local.GENERATION, restored.generation)
            local.set_state(s, local.REDOWNLOAD, "1")
            local.set_state(s, local.FULL_AFTER, None)
        self.result.notes.append(
            "the sync server was restored from a backup: "
            f"{plural(self.result.resent, 'record')} it had lost sent again"
        )

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Interrupted("Sync was cancelled; everything received so far is kept.")

    # --- HTTP with retries --------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request, tried again (tenacity) after a network failure, a server error or a
        429/503: after the ``Retry-After`` the server asked for, else an exponential backoff with
        full jitter. ``cancel`` cuts a wait short."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_TryAgain),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._note_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, path, body)
        except _TryAgain as exc:
            raise exc.problem from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failed = state.outcome and state.outcome.exception()
        if isinstance(failed, _TryAgain) and failed.retry_after is not None:
            return failed.retry_after
        return self._jitter(state)

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            self._check_cancel()

    def _note_retry(self, state: tenacity.RetryCallState) -> None:
        self.result.retries += 1
        failed = state.outcome and state.outcome.exception()
        kind = failed.problem.kind.value if isinstance(failed, _TryAgain) else "?"
        log.info(
            "sync retry %d after %s in %.2fs", state.attempt_number, kind, state.upcoming_sleep
        )

    def _attempt(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        self._check_cancel()
        try:
            resp = self.http.request(method, path, json=body)
            self.reached = True
            status = resp.status_code
            if status < 400:
                if self.generation is None:  # the first answer names the generation
                    self.generation = resp.headers.get(P.GENERATION_HEADER)
                if resp.headers.get(P.CYCLE_HEADER) == P.CYCLE_PATH:  # (that path only)
                    self.cycle_path = P.CYCLE_PATH
                return _json_body(resp.content)  # a cut-off body raises here: retried
        except (httpx.TransportError, json.JSONDecodeError) as exc:
            problem = SyncError(
                f"The sync server could not be reached ({type(exc).__name__}).",
                SyncErrorKind.NETWORK,
            )
            connect = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            if connect and self.quick_offline and not self.reached:
                raise problem from None
            raise _TryAgain(problem) from None
        detail = _detail(resp)
        if status == 401:
            if "expired" in resp.headers.get("www-authenticate", ""):
                raise SyncError(detail, SyncErrorKind.EXPIRED)
            raise SyncError(f"Sign-in to the sync server failed: {detail}", SyncErrorKind.AUTH)
        if status == 426:
            raise SyncError(f"{UPDATE_APP} ({detail})", SyncErrorKind.PROTOCOL)
        if status == 410:
            raise _CursorStale(detail)
        if status == 409 and resp.headers.get(P.GENERATION_HEADER):
            since = resp.headers.get(P.RESTORED_SINCE_HEADER, "")
            raise _Restored(resp.headers[P.GENERATION_HEADER], int(since) if since.isdigit() else 0)
        if status < 500 and status != 429:
            raise _Refused(status, detail, resp)
        problem = SyncError(f"The sync server had a problem (HTTP {status}).", SyncErrorKind.SERVER)
        wait = _retry_after(resp)
        if wait is not None and wait > self.retry_after_cap:
            # Longer than a sync cycle should hang: stop, and say when the server will answer.
            raise SyncError(
                f"The sync server is busy (HTTP {status}) and asks to wait {wait:.0f} s; "
                "sync will try again later.",
                SyncErrorKind.SERVER,
            )
        raise _TryAgain(problem, wait)

    # --- push ---------------------------------------------------------------------------------

    def _push(self) -> None:
        total = 0
        with self.ws.session() as s:
            total = local.pending_count(s)
        done = 0
        while True:
            self._check_cancel()
            ops = local.next_batch(self.ws, self.push_batch)
            if not ops:
                return
            self.progress("push", done, total)
            body = {"batch_id": str(uuid.uuid4()), "ops": ops}
            try:
                reply = self._call("POST", "/v1/push", body)
            except _Refused as exc:
                if exc.status == 422 and isinstance(exc.payload, list):
                    bad = {p.get("op") for p in exc.payload if isinstance(p, dict)}
                    bad_ids = [
                        ops[i]["op_id"] for i in bad if isinstance(i, int) and 0 <= i < len(ops)
                    ]
                    if bad_ids:
                        local.reject_invalid(
                            self.ws, bad_ids, f"refused by the server: {exc.detail}"
                        )
                        self.result.rejected += len(bad_ids)
                        continue
                kind = SyncErrorKind.AUTH if exc.status == 403 else SyncErrorKind.PROTOCOL
                raise SyncError(f"The sync server refused the upload: {exc.detail}", kind) from None
            self._count_results(list(reply.get("results", ())))
            done += len(ops)

    def _count_results(self, results: list[dict[str, Any]]) -> None:
        """A batch's acknowledgements recorded (``local.record_results``) and counted."""
        for res, status in zip(results, local.record_results(self.ws, results), strict=True):
            if status == P.APPLIED:
                self.result.pushed += 1
            elif status == P.CONFLICT:
                self.result.pushed += 1
                self.result.conflicts += len(res.get("conflicts", ())) or 1
            elif status == P.REJECTED:
                self.result.rejected += 1

    # --- pull ---------------------------------------------------------------------------------

    def _pull(self) -> None:
        with self.ws.session() as s:
            cursor = local.state(s, local.CURSOR)
            redownload = local.state(s, local.REDOWNLOAD) == "1"
        if cursor is None or redownload:
            self._download()
            return
        try:
            self._pull_incremental(cursor)
        except _CursorStale:
            self._stale_cursor()

    def _stale_cursor(self) -> None:
        """The cursor is older than the endpoint keeps deletions, or unreadable (a 410, or a
        one-request cycle's ``gone``): the scope downloaded again, the outbox kept."""
        log.info("cursor is stale: re-downloading the scope, keeping the outbox")
        self.result.notes.append("cursor too old: re-downloaded")
        self._download()

    def _pull_incremental(self, cursor: str) -> None:
        while True:
            self._check_cancel()
            page = self._page({"cursor": cursor, "limit": self.pull_page})
            _moved_on(page, "cursor", cursor)
            if not self._apply_page(page):
                return
            cursor = page["cursor"]

    def _apply_page(self, page: dict[str, Any]) -> bool:
        """An incremental page and its cursor applied in one transaction; has it more?"""
        with local.apply_session(self.ws) as s:
            skip = local.pending_keys(s)
            applied, skipped = incoming.apply_rows(s, page["changes"], skip, self._aside)
            if page.get("purged"):
                self.result.purged += incoming.purge_patients(s, page["purged"])
            local.set_state(s, local.CURSOR, page["cursor"])
        self.result.pulled += applied
        self.result.skipped += skipped
        self.progress("pull", self.result.pulled, 0)
        return bool(page.get("has_more"))

    def _page(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            page: dict[str, Any] = self._call("POST", "/v1/pull", body)
            return page
        except _Refused as exc:
            if exc.status == 422 and body.get("form") == "columns":
                # An endpoint from before the column form refuses the field: rows it is.
                log.info("the sync server writes full pages as rows only")
                self.columns = False
                return self._page({k: v for k, v in body.items() if k != "form"})
            raise SyncError(
                f"The sync server refused the download: {exc.detail}", SyncErrorKind.PROTOCOL
            ) from None

    def _prepared(self, body: dict[str, Any]) -> tuple[dict[str, Any], incoming.Prepared]:
        """A download page and its rows as parameters (on the prefetch thread: pure Python,
        while the page before is written, which mostly runs in SQLite without the GIL)."""
        page = self._page(body)
        return page, incoming.prepare_page(page)

    def _expected_rows(self) -> int:
        """How many rows a full download brings (the server's live counts), for a progress bar
        with an end; 0 (no end shown) when the server cannot say."""
        try:
            counts = self._call("GET", "/v1/verify")["entities"]
            return sum(int(v["count"]) for v in counts.values())
        except (_Refused, KeyError, TypeError, ValueError, AttributeError):
            return 0  # (a server that cannot be reached fails the download just the same)

    def _download(self) -> None:
        """Full (re-)download of the scope, resumable page by page; the outbox is kept. One
        stopped half way resumes from its stored position; any other starts from the first
        page (a stale cursor and a verify mismatch come after a download has finished)."""
        with local.apply_session(self.ws) as s:
            after = local.state(s, local.FULL_AFTER)
            if after is None:
                if local.state(s, local.CURSOR) is None:
                    local.defer_indexes(s)  # a first download: indexes built at its end
                local.begin_redownload(s)
                local.set_state(s, local.REDOWNLOAD, "1")
                local.set_state(s, local.FULL_AFTER, "")
                after = ""
        self.result.redownloaded = True
        total = self._expected_rows()
        try:
            self._download_pages(after, total)
        finally:  # stopped half way (cancelled, offline): the indexes back until it resumes
            with local.apply_session(self.ws) as s:
                local.restore_indexes(s)
        # Changes made on the server while we downloaded.
        with self.ws.session() as s:
            cursor = local.state(s, local.CURSOR)
        if cursor:
            self._pull_incremental(cursor)

    def _download_pages(self, after: str, total: int) -> None:
        limit = max(self.pull_page, P.MAX_PULL_PAGE)

        def body_for(position: str) -> dict[str, Any]:
            body: dict[str, Any] = {"full": True, "limit": limit}
            if self.columns:  # names once an entity, rows as arrays: a third of the bytes less
                body["form"] = "columns"
            if position:
                body["after"] = position
            return body

        # The next page is fetched while this one is applied (the server works meanwhile).
        with (
            _gc_paused(),
            ThreadPoolExecutor(1, thread_name_prefix="int-desk-prefetch") as prefetch,
        ):
            upcoming: Future[tuple[dict[str, Any], incoming.Prepared]] | None = None
            while True:
                self._check_cancel()
                try:
                    page, rows = upcoming.result() if upcoming else self._prepared(body_for(after))
                except _CursorStale:  # the position unreadable: from the first page again
                    after, upcoming = "", None  # (stored with that page)
                    continue
                upcoming = None
                _moved_on(page, "after", after)
                if page.get("has_more"):
                    upcoming = prefetch.submit(self._prepared, body_for(page.get("after") or ""))
                with local.apply_session(self.ws) as s:
                    skip = local.pending_keys(s)
                    applied, skipped = incoming.apply_rows(s, rows, skip, self._aside)
                    after = page.get("after") or ""
                    local.set_state(s, local.FULL_AFTER, after)
                    local.set_state(s, local.FULL_CURSOR, page["cursor"])
                    last = incoming.last_entity(page)
                    if last:  # the tables before the page's last are complete
                        local.restore_indexes(s, before=last)
                    if not page.get("has_more"):
                        local.finish_redownload(s)
                        local.restore_indexes(s)  # with the last rows: all or nothing
                        local.set_state(s, local.CURSOR, page["cursor"])
                        local.set_state(s, local.FULL_AFTER, None)
                        local.set_state(s, local.FULL_CURSOR, None)
                        local.set_state(s, local.REDOWNLOAD, None)
                self.result.pulled += applied
                self.result.skipped += skipped
                self.progress("download", min(self.result.pulled, total), total)
                if not page.get("has_more"):
                    break

    # --- verify -------------------------------------------------------------------------------

    def _verify(self, again: bool = True, server: dict[str, Any] | None = None) -> None:
        """Counts every cycle; the id digest too when ``HASH_EVERY`` has passed (or after a
        re-download), since hashing every id costs far more than counting on a big caseload.
        ``server``: the endpoint's counts already received (a one-request cycle's)."""
        with self.ws.session() as s:
            if local.pending_count(s):
                self.result.verified = None  # unsent edits: the counts cannot agree yet
                return
            last = local.state(s, local.HASH_CHECKED_AT)
        if server is None:
            server = self._call("GET", "/v1/verify")["entities"]
        full = (
            self.full_verify
            or self.result.redownloaded
            or last is None
            or time.time() - float(last) > HASH_EVERY
        )
        with self.ws.session() as s:
            if full:
                mine: dict[str, Any] = local.digest(s)
            else:
                mine = local.counts(s)
                server = {e: v["count"] for e, v in server.items()}
        if mine == server:
            self.result.verified = True
            if full:
                with self.ws.session() as s:
                    local.set_state(s, local.HASH_CHECKED_AT, str(time.time()))
            return
        differing = sorted(e for e in set(mine) | set(server) if mine.get(e) != server.get(e))
        log.warning("verify mismatch in %s", ",".join(differing))
        done = "re-downloaded" if again else "still, after re-downloading"
        self.result.notes.append(f"verify mismatch ({', '.join(differing)}): {done}")
        self.result.verified = False
        if again:
            self._download()
            self._verify(again=False)


_GC_LOCK = threading.Lock()
_GC_PAUSE = {"downloads": 0, "paused": 0}  # downloads under way; 1 when they turned it off


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a download runs: decoding a page makes hundreds
    of thousands of dicts, and the collections they set off cost about a third of the decode
    (a download's rows are freed by reference counting; nothing they make is cyclic)."""
    with _GC_LOCK:
        _GC_PAUSE["downloads"] += 1
        if _GC_PAUSE["downloads"] == 1 and gc.isenabled():
            gc.disable()
            _GC_PAUSE["paused"] = 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSE["downloads"] -= 1
            if _GC_PAUSE["downloads"] == 0 and _GC_PAUSE["paused"]:
                _GC_PAUSE["paused"] = 0
                gc.enable()


def _json_body(content: bytes) -> Any:
    """A response's JSON: orjson (a page of thousands of rows decodes in about two thirds of
    json's time), else json for what orjson refuses and json reads (an integer beyond 64 bits,
    NaN), so such a value reaches the laptop's checks and is set aside there, row by row."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)  # (a cut-off body fails here too: json.JSONDecodeError)


def _moved_on(page: dict[str, Any], key: str, before: str) -> None:
    """A page that says more follows must move the position on (``key``, from ``before``): an
    endpoint answering the same page again would otherwise be asked for ever (a sync that
    never ends, the laptop's battery and data spent on it)."""
    if page.get("has_more") and (page.get(key) or "") == before:
        raise SyncError(STUCK, SyncErrorKind.SERVER)


class _TryAgain(Exception):
    """A failure worth another try: ``problem`` is reported if the tries run out."""

    def __init__(self, problem: SyncError, retry_after: float | None = None) -> None:
        self.problem, self.retry_after = problem, retry_after  # (never shown: ``problem`` is)


def _retry_after(resp: httpx.Response) -> float | None:
    """The seconds a 429/503 answer's ``Retry-After`` asks for (delay-seconds or an HTTP date),
    or None when it has none or it is unreadable."""
    value = resp.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class _Refused(Exception):
    def __init__(self, status: int, detail: str, resp: httpx.Response) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        try:
            self.payload = resp.json().get("detail")
        except ValueError:
            self.payload = None


def _detail(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail")
    except ValueError:
        return f"HTTP {resp.status_code}"
    if isinstance(detail, str):
        return detail[:300]
    return f"HTTP {resp.status_code}: {json.dumps(detail)[:300]}"


def sync_workspace(ws: Workspace, **kwargs: Any) -> SyncResult:
    """Sync with the endpoint the workspace is connected to (see credentials.connect)."""
    conn = credentials.load(ws)
    if conn is None:
        raise SyncError("This workspace is not connected to a sync endpoint.", SyncErrorKind.AUTH)
    return SyncEngine(ws, conn.endpoint, conn.token, **kwargs).run()
