"""How the sync client reaches its endpoint, as a laptop on a hospital network meets it: HTTPS
trusted through the certificate authority the computer is told to trust (``SSL_CERT_FILE``,
``SSL_CERT_DIR``), an endpoint that never answers the connection, and waits between tries
that never grow past their cap.

Real parts: the real endpoint served over TLS by uvicorn on 127.0.0.1 (a certificate authority
made for the test by ``trustme``), a real listening socket whose queue is full (so connecting
hangs, as behind a firewall that drops packets), real encrypted laptops. Judged by the broad
mutation score's sync-client target (tests/mutation/broad.py).
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tenacity
import trustme
from cryptography import x509

from int_desk.store.workspace import Workspace
from int_desk.sync import client, local
from int_desk.sync.client import SyncEngine, SyncResult
from tests.conftest import PASSPHRASE
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint
from tests.test_sync_in_process import small_template  # noqa: F401  (the endpoint's database)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_ep(
    small_template: Endpoint,  # noqa: F811
    ca: trustme.CA,
    tmp_path: Path,
) -> Iterator[Endpoint]:
    """The endpoint over HTTPS on 127.0.0.1, its certificate issued by ``ca``."""
    path = tmp_path / "srv.db"
    shutil.copy(small_template.db_url.removeprefix("sqlite:///"), path)
    served = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "endpoint.pem", tmp_path / "endpoint.key"
    served.cert_chain_pems[0].write_to_path(str(cert))
    served.private_key_pem.write_to_path(str(key))
    running = sync_env.serve_in_process(f"sqlite:///{path}", tls=(cert, key))
    running.tokens, running.teams = dict(small_template.tokens), dict(small_template.teams)
    yield running
    running.stop()


def _subject_hash(pem: bytes) -> str:
    """OpenSSL's name for a certificate in a trust directory (``openssl x509 -hash``): SHA-1
    of the subject's canonical form (each value lower-cased, as UTF8String: cryptography's
    encoding of trustme's organisation names), first 4 bytes, little-endian."""
    subject = x509.load_pem_x509_certificate(pem).subject
    canonical = x509.Name(
        [
            x509.RelativeDistinguishedName(
                x509.NameAttribute(a.oid, " ".join(str(a.value).split()).lower()) for a in rdn
            )
            for rdn in subject.rdns
        ]
    ).public_bytes()
    header = 2 if canonical[1] < 0x80 else 2 + (canonical[1] & 0x7F)  # the outer SEQUENCE's
    digest = hashlib.sha1(canonical[header:]).digest()  # noqa: S324  (OpenSSL's naming scheme)
    return f"{int.from_bytes(digest[:4], 'little'):08x}"


def test_an_https_endpoint_is_trusted_only_through_the_authority_the_computer_trusts(
    https_ep: Endpoint, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An NHS organisation's endpoint often has a certificate from its own authority, which IT
    tells the computer to trust (``SSL_CERT_FILE``, or a directory in ``SSL_CERT_DIR``). Sync
    trusts exactly that: not before it is set, at once when it is (in the same app), and
    nothing else besides."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert https_ep.url.startswith("https://127.0.0.1:")
    a = sync_env.laptop(tmp_path / "a", https_ep, "a", PASSPHRASE)
    try:
        untrusted = sync_env.engine(a, retries=0).run()
        assert (untrusted.ok, untrusted.error_kind) == (False, "network")
        assert untrusted.error == "The sync server could not be reached (ConnectError)."
        with a.session() as s:
            assert local.counts(s) == dict.fromkeys(local.counts(s), 0)  # nothing taken in
        bundle = tmp_path / "organisation-ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
        trusted = sync_env.engine(a).run()
        assert (trusted.ok, trusted.verified, trusted.error) == (True, True, None)
        assert trusted.pulled > 100
    finally:
        a.close()
    monkeypatch.delenv("SSL_CERT_FILE")
    folder = tmp_path / "trusted-authorities"  # as `openssl rehash` lays a directory out
    folder.mkdir()
    ca.cert_pem.write_to_path(str(folder / f"{_subject_hash(ca.cert_pem.bytes())}.0"))
    monkeypatch.setenv("SSL_CERT_DIR", str(folder))
    b = sync_env.laptop(tmp_path / "b", https_ep, "b", PASSPHRASE)
    try:
        by_folder = sync_env.engine(b).run()
        assert (by_folder.ok, by_folder.verified, by_folder.error) == (True, True, None)
        # A bundle in SSL_CERT_FILE is the whole trust (httpx's rule): the directory is then
        # not read, so an endpoint its authorities did not sign is refused.
        other = tmp_path / "another-bundle.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        monkeypatch.setenv("SSL_CERT_FILE", str(other))
        elsewhere = sync_env.engine(b, retries=0).run()
        assert (elsewhere.ok, elsewhere.error_kind) == (False, "network")
    finally:
        b.close()


@pytest.fixture
def unanswered() -> Iterator[str]:
    """A URL whose connections are never answered: a listening socket whose accept queue is
    full, so the kernel drops new connection attempts (as a firewall that drops packets
    does) and the client waits. Closed after the test, which ends any attempt still waiting."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        queued.append(c)
    time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    for c in [*queued, listener]:
        c.close()


def _ended_within(cycle: SyncEngine, seconds: float) -> tuple[SyncResult | None, float]:
    """Run ``cycle`` on a thread; (its result or None if still running, seconds taken)."""
    done: list[SyncResult] = []
    start = time.perf_counter()
    worker = threading.Thread(target=lambda: done.append(cycle.run()), daemon=True)
    worker.start()
    worker.join(seconds)
    return (done[0] if done else None), time.perf_counter() - start


def test_an_endpoint_that_never_answers_the_connection_is_given_up_on_quickly(
    unanswered: str, tmp_path: Path
) -> None:
    """A sync whose server never answers the connection (a dropped route, a firewall) is
    reported offline after the connect timeout (10 s in the app; 1 s here), not after the
    whole request timeout, and never hangs the sync."""
    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    try:
        cycle = SyncEngine(
            ws, unanswered, "idt_x", timeout=90, connect_timeout=1, retries=0, quick_offline=True
        )
        result, took = _ended_within(cycle, 30)
        assert result is not None, "the sync was still connecting after 30 s"
        assert (result.ok, result.error_kind) == (False, "network")
        assert result.error == "The sync server could not be reached (ConnectTimeout)."
        assert took < 30  # (1 s of connect timeout; generous for a loaded machine)
    finally:
        if result is not None:
            ws.close()


def test_the_wait_between_tries_never_grows_past_its_cap(tmp_path: Path) -> None:
    """However long the backoff would grow, no wait between two tries exceeds ``backoff_cap``
    (8 s in the app): an unreachable server is reported after a few short waits, and the
    cycle never sits for minutes on a doubling wait."""
    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    url = f"http://127.0.0.1:{sync_env.free_port()}"  # nothing listens here
    cancel = threading.Event()
    # backoff 50 s: uncapped, the three waits would be drawn from 0-100, 0-200 and 0-400 s.
    cycle = SyncEngine(ws, url, "idt_x", retries=3, backoff=50, backoff_cap=0.05, cancel=cancel)
    try:
        result, took = _ended_within(cycle, 20)
        if result is None:
            cancel.set()  # (ends the wait, so the workspace can close)
            _ended_within(cycle, 30)
        assert result is not None, "the waits between tries were not capped"
        assert (result.ok, result.error_kind, result.retries) == (False, "network", 3)
        assert took < 20
    finally:
        ws.close()


def test_with_the_apps_settings_a_server_that_fails_is_tried_again_within_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's own backoff (no test settings): the first wait before trying a server that did
    not answer again is at most 1 s, the next at most 2 s, doubling to the 8 s cap, so a blip
    costs the user a second, not minutes. Each wait is drawn at random up to that bound (full
    jitter); here the draw is pinned to the bound, the longest the app can wait."""
    monkeypatch.setattr(tenacity.wait.random, "uniform", lambda _low, high: high)
    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    url = f"http://127.0.0.1:{sync_env.free_port()}"  # nothing listens here
    try:
        with caplog.at_level("INFO", logger="int_desk.sync.client"):
            result, took = _ended_within(SyncEngine(ws, url, "idt_x", retries=2), 20)
        assert result is not None and (result.error_kind, result.retries) == ("network", 2)
        waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sync retry")]
        assert waits == [
            "sync retry 1 after network in 1.00s",
            "sync retry 2 after network in 2.00s",
        ]
        assert 3 <= took < 20
    finally:
        ws.close()


def test_a_shorter_backoff_shortens_every_wait_in_proportion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``backoff`` scales the waits (the first at most 2 x backoff, doubling): a tenth of the
    app's backoff waits at most a tenth as long (the draw pinned to its bound, as above)."""
    monkeypatch.setattr(tenacity.wait.random, "uniform", lambda _low, high: high)
    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    url = f"http://127.0.0.1:{sync_env.free_port()}"  # nothing listens here
    try:
        with caplog.at_level("INFO", logger="int_desk.sync.client"):
            cycle = SyncEngine(ws, url, "idt_x", retries=2, backoff=0.05)
            result, _took = _ended_within(cycle, 20)
        assert result is not None and (result.error_kind, result.retries) == ("network", 2)
        waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sync retry")]
        assert waits == [
            "sync retry 1 after network in 0.10s",
            "sync retry 2 after network in 0.20s",
        ]
    finally:
        ws.close()


def test_the_trusted_authorities_are_read_once_not_at_every_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the bundle of trusted authorities costs about 50 ms, and the app syncs every
    few minutes: it is read once while the app runs (for each SSL_CERT_FILE / SSL_CERT_DIR),
    and every later sync reuses it."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setattr(client, "_TLS", {})  # as when the app starts
    reads: list[object] = []
    read = ssl.create_default_context
    monkeypatch.setattr(
        ssl, "create_default_context", lambda *a, **k: reads.append(k) or read(*a, **k)
    )
    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    try:
        for _ in range(3):
            SyncEngine(ws, "https://int-desk.example.nhs.uk", "idt_x").http.close()
    finally:
        ws.close()
    assert len(reads) == 1


class _Unhurried(threading.Event):
    """A cancel switch never set, whose waits end at once: the engine waits between tries on
    its cancel switch, so each wait is logged as drawn without the time passing."""

    def wait(self, timeout: float | None = None) -> bool:
        return False


def test_with_the_apps_settings_the_waits_double_to_8_s_and_stay_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's backoff over a longer outage: 1, 2, 4 then 8 s at most, and never more than
    8 s however many tries follow (the draw pinned to its bound, as above)."""
    monkeypatch.setattr(tenacity.wait.random, "uniform", lambda _low, high: high)
    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    url = f"http://127.0.0.1:{sync_env.free_port()}"  # nothing listens here
    try:
        with caplog.at_level("INFO", logger="int_desk.sync.client"):
            cycle = SyncEngine(ws, url, "idt_x", retries=6, cancel=_Unhurried())
            result, _took = _ended_within(cycle, 20)
        assert result is not None and (result.error_kind, result.retries) == ("network", 6)
        waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sync retry")]
        assert [w.rsplit(" in ", 1)[1] for w in waits] == [
            "1.00s", "2.00s", "4.00s", "8.00s", "8.00s", "8.00s"
        ]  # fmt: skip
    finally:
        ws.close()
