"""Hostile input to the CSV cohort import and every CLI command: no crash (only typed errors or
a clean exit code), and nothing written when the input is rejected.

Budget (default run): CSV reading 3,500 + CSV preview/apply on a real encrypted store 200 +
CLI parsing 6,000 + CLI execution 120 = 9,820 inputs here (hypothesis draws the structured
cases, and a hypothesis-seeded Random makes cheap mutated ones in bulk); tests/test_fuzz_sync.py adds the
endpoint's share. ``INT_DESK_FUZZ_SCALE=10`` multiplies every budget for an on-demand long run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from int_desk.cli import build_parser
from int_desk.cli import main as cli_main
from int_desk.domain.errors import IntDeskError
from int_desk.domain.nhs_number import complete
from int_desk.domain.vocab import Role
from int_desk.services import cohort_import as ci
from int_desk.services.demo import build_demo
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role

SCALE = max(1, int(os.environ.get("INT_DESK_FUZZ_SCALE", "1")))


def fast(examples: int) -> settings:
    """Deterministic, no example database on disk, no per-example deadline."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- shared strategies -------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "\r\n",
    '"',
    '""',
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "-1",
    "@SUM(A1)",
    "9" * 400,
    "ǅŁŻ Ωμέγα Zoë",
    "\u202eevil",
    "\ufeff",
    "NaN",
    "inf",
    "1e309",
    "31/02/1950",
    "0000-00-00",
    "9999-12-31",
    "1800-01-01",
    "SW1A 1AA",
    "not a postcode",
    "../../etc/passwd",
    "%s%s%n",
    "{0}",
    "None",
    ";",
    "\t",
]
cell = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=12),
    st.integers(min_value=0, max_value=9_999_999_999).map(lambda n: f"{n:010d}"),
    st.integers(min_value=0, max_value=9_999_999_999).map(
        lambda n: f"{n:010d}"[:3] + " " + f"{n:010d}"[3:6] + " " + f"{n:010d}"[6:]
    ),
    st.dates(min_value=date(1850, 1, 1), max_value=date(2100, 1, 1)).map(
        lambda d: d.strftime("%d/%m/%Y")
    ),
)
valid_nhs = (
    st.integers(min_value=0, max_value=999_999).map(lambda n: complete(f"999{n:06d}")).filter(bool)
)
# A valid number with its check digit mistyped: ten digits that must never be accepted.
mistyped_nhs = st.tuples(valid_nhs, st.integers(1, 9)).map(
    lambda v: v[0][:9] + str((int(v[0][9]) + v[1]) % 10)
)


def _really_valid(number: str) -> bool:
    """The Modulus 11 rule written out here, independently of the code under test."""
    if len(number) != 10 or not number.isdigit():
        return False
    check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(number[:9])) % 11) % 11
    return check != 10 and check == int(number[9])


header = st.one_of(
    st.sampled_from(
        [
            "NHS Number",
            "DOB",
            "Forename",
            "Surname",
            "Postcode",
            "Practice Code",
            "Reason",
            "Risk Score",
            "Sex",
            "Name",
            "nhs",
            "Date of Birth",
        ]  # fmt: skip
    ),
    st.text(max_size=15),
)


def _csv_text(headers: list[str], rows: list[list[str]], sep: str) -> str:
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in f'{sep}"\r\n') else v

    return "\r\n".join(sep.join(q(v) for v in line) for line in [headers, *rows])


csv_doc = st.builds(
    _csv_text,
    st.lists(header, min_size=1, max_size=7),
    st.lists(st.lists(cell, max_size=8), max_size=5),
    st.sampled_from([",", ";", "\t", "|"]),
)


# --- CSV reading (in-process, cheap) ------------------------------------------------------------


VALID_CSV = (
    "NHS Number,Date of Birth,Forename,Surname,Postcode,Risk Score\r\n"
    "999 000 0018,01/02/1940,Ada,Example,OX26 6AA,0.7\r\n"
    "9990000026,1941-03-04,Bo,Sample,RG1 1AA,0.2\r\n"
)


def _random_text(rng: random.Random, n: int) -> str:
    alphabet = ',;\t|"\r\n =+-@0123456789/.abcXYZ\u00e9\u0141\u202e\ufeff\x00'
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_csv_input(rng: random.Random) -> bytes | str:
    """One hostile CSV input: random bytes, random CSV-ish text, or a mutated valid file."""
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randrange(300))
    if kind == 1:
        return _random_text(rng, rng.randrange(300))
    data = bytearray(VALID_CSV.encode("utf-8") if kind != 4 else VALID_CSV.encode("utf-16"))
    for _ in range(rng.randrange(1, 12)):
        op = rng.randrange(4)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)  # flip a byte
        elif op == 1:
            data[pos:pos] = rng.choice(NASTY).encode("utf-8")  # insert something nasty
        elif op == 2:
            del data[pos : pos + rng.randrange(20)]  # cut
        else:
            data[pos:pos] = data[: rng.randrange(len(data) + 1)]  # duplicate a prefix
    return bytes(data)


def test_fuzz_csv_reading_never_crashes() -> None:
    seen = {"ok": 0, "rejected": 0}

    def check(data: bytes | str) -> None:
        try:
            table = ci.read_csv(data, name="fuzz.csv")
        except IntDeskError as exc:
            assert str(exc)
            seen["rejected"] += 1
            return
        mapping = ci.auto_mapping(table.headers)
        assert set(mapping) <= set(table.headers)
        assert all(isinstance(p, str) for p in ci.mapping_problems(mapping))
        seen["ok"] += 1

    @fast(100)
    @given(csv_doc.map(lambda t: t.encode("utf-8")) | csv_doc.map(lambda t: "\ufeff" + t))
    def structured(data: bytes | str) -> None:
        check(data)

    @fast(340)
    @given(st.randoms(use_true_random=False))
    def mutated(rng: random.Random) -> None:
        for _ in range(10):
            check(random_csv_input(rng))

    # Always tried, not left to the draws: a Windows export (not UTF-8) is read, not a crash.
    windows = VALID_CSV.replace("Ada", "Zoë").encode("cp1252")
    assert ci.read_csv(windows, name="gp.csv").rows[0][2] == "Zoë"
    structured()
    mutated()
    assert seen["ok"] + seen["rejected"] >= 3500 * SCALE
    assert seen["ok"] > 500 and seen["rejected"] > 100


# --- CSV preview + apply on a real encrypted store ---------------------------------------------


def _fingerprint(s: Session) -> tuple[int, ...]:
    return tuple(
        s.scalar(select(func.count()).select_from(model))
        for model in (m.Patient, m.CohortMembership, m.Organisation)
    ) + (
        s.scalar(select(func.count()).where(m.Patient.updated_at.is_not(None))),
        hash(tuple(s.scalars(select(m.Patient.updated_at).order_by(m.Patient.id)))),
    )


@pytest.fixture(scope="module")
def small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-patient encrypted demo workspace (closed); tests open copies."""
    from int_desk.store import keys

    saved = keys.DEFAULT_SCRYPT_N
    keys.DEFAULT_SCRYPT_N = 2**12
    directory = tmp_path_factory.mktemp("fuzz") / "ws"
    try:
        with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws:
            with ws.session() as s:
                build_demo(s, patients=40, seed=3, today=date(2026, 11, 20))
    finally:
        keys.DEFAULT_SCRYPT_N = saved
    return directory


@pytest.fixture
def small_ws(small_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    target = tmp_path / "small-ws"
    shutil.copytree(small_template, target)
    ws = Workspace.open(target, PASSPHRASE, use_keyring=False)
    yield ws
    ws.close()


# A row valid in every way but its check digit (9990000018 with its last digit mistyped).
MISTYPED_ROW = {
    "NHS Number": "9990000019", "Date of Birth": "1940-02-01", "Forename": "Ada",
    "Surname": "Mistyped", "Postcode": "OX26 6AA", "Risk Score": "0.5", "Sex": "F",
}  # fmt: skip

row_strategy = st.fixed_dictionaries(
    {
        "NHS Number": st.one_of(valid_nhs, mistyped_nhs, cell),
        "Date of Birth": st.one_of(
            st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)).map(str), cell
        ),
        "Forename": cell,
        "Surname": cell,
        "Postcode": st.one_of(st.sampled_from(["OX26 6AA", "RG1 1AA", "HP20 1AA"]), cell),
        "Risk Score": st.one_of(st.floats(allow_nan=True).map(str), cell),
        "Sex": st.one_of(st.sampled_from(["F", "M", "x", ""]), cell),
    }
)


def test_fuzz_cohort_import_rejects_cleanly_and_never_half_writes(small_ws: Workspace) -> None:
    with small_ws.session() as s:
        actor = actor_of_role(s, Role.CARE_COORDINATOR)
        cohort_id = s.scalar(
            select(m.Cohort.id).where(m.Cohort.team_id.in_(actor.team_ids)).limit(1)
        )
    outcomes = {"applied": 0, "rejected": 0}

    @fast(200)
    @given(
        rows=st.lists(row_strategy, min_size=1, max_size=6),
        strict=st.booleans(),
        fail_midway=st.booleans(),
    )
    @example(rows=[MISTYPED_ROW], strict=False, fail_midway=False)  # always tried, not left to luck
    def run(rows: list[dict[str, str]], strict: bool, fail_midway: bool) -> None:
        headers = list(rows[0])
        text = _csv_text(headers, [[r[h] for h in headers] for r in rows], ",")
        with small_ws.session() as s:
            before = _fingerprint(s)
        try:
            with small_ws.session() as s:
                table = ci.read_csv(text.encode("utf-8"))
                preview = ci.build_preview(
                    session=s,
                    actor=actor,
                    cohort_id=cohort_id,
                    table=table,
                    mapping=ci.auto_mapping(table.headers),
                    today=date(2026, 11, 20),
                )
                if strict and preview.rejected:
                    raise ci.ValidationError("strict: a row was rejected")
                calls = {"n": 0}

                def cancelled() -> bool:  # a user pressing Cancel half-way
                    calls["n"] += 1
                    return fail_midway and calls["n"] > 1

                ci.apply_import(session=s, actor=actor, preview=preview, cancelled=cancelled)
                if fail_midway and len(preview.to_write) > 1:
                    raise AssertionError("cancel was not honoured")
        except IntDeskError as exc:
            assert not any(r[h] and len(r[h]) > 6 and r[h] in str(exc) for r in rows for h in r)
            with small_ws.session() as s:
                assert _fingerprint(s) == before, "a rejected import changed the store"
            outcomes["rejected"] += 1
        else:
            outcomes["applied"] += 1
            with small_ws.session() as s:  # no mistyped number ever reaches the store
                stored = s.scalars(select(m.Patient.nhs_number)).all()
            assert all(_really_valid(n) for n in stored), [
                n for n in stored if not _really_valid(n)
            ]

    run()
    assert outcomes["applied"] > 10 and outcomes["rejected"] > 10


# --- CLI parsing (in-process, cheap) ------------------------------------------------------------


def _options(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Sub-command path -> its option strings, walking every sub-parser."""
    out: dict[str, list[str]] = {}

    def walk(p: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        opts = [s for a in p._actions for s in a.option_strings]
        out[" ".join(path)] = opts
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    walk(sub, (*path, name))

    walk(parser, ())
    return out


PARSER = build_parser()
COMMAND_OPTIONS = _options(PARSER)
arg_value = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.uuids().map(str),
)


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(COMMAND_OPTIONS)))
    words = command.split()
    opts = COMMAND_OPTIONS[command]
    for _ in range(draw(st.integers(0, 6))):
        if opts and draw(st.booleans()):
            words.append(draw(st.sampled_from(opts)))
        words.append(draw(arg_value))
    return words


def random_argv(rng: random.Random) -> list[str]:
    """A hostile command line: a real sub-command, its real options, hostile values."""
    command = rng.choice(COMMAND_NAMES)
    words = command.split()
    opts = COMMAND_OPTIONS[command]
    for _ in range(rng.randrange(7)):
        if opts and rng.random() < 0.6:
            words.append(rng.choice(opts))
        pick = rng.randrange(4)
        if pick == 0:
            words.append(rng.choice(NASTY))
        elif pick == 1:
            words.append(_random_text(rng, rng.randrange(15)))
        elif pick == 2:
            words.append(str(rng.randint(-(2**70), 2**70)))
        else:
            words.append(str(uuid.UUID(int=rng.getrandbits(128))))
    return words


COMMAND_NAMES = sorted(COMMAND_OPTIONS)


def test_fuzz_cli_parsing_exits_cleanly() -> None:
    counts = {"parsed": 0, "usage": 0}

    def check(words: list[str]) -> None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                PARSER.parse_args(words)
            except SystemExit as exc:
                assert exc.code in (0, 2), exc.code
                counts["usage"] += 1
                return
        counts["parsed"] += 1

    @fast(200)
    @given(argv())
    def structured(words: list[str]) -> None:
        check(words)

    @fast(290)
    @given(st.randoms(use_true_random=False))
    def mutated(rng: random.Random) -> None:
        for _ in range(20):
            check(random_argv(rng))

    # Always tried, not left to the draws: no such command, and an option missing its value.
    for words in (["no-such-command"], ["--workspace"], ["caseload", "--no-such-option"]):
        check(words)
    assert counts["usage"] == 3
    structured()
    mutated()
    assert counts["parsed"] + counts["usage"] >= 6000 * SCALE
    assert counts["parsed"] > 50 and counts["usage"] > 500


# --- CLI execution against a real workspace ------------------------------------------------------

SAFE_COMMANDS = [
    "info",
    "audit verify",
    "caseload",
    "import-cohort",
    "huddle-agenda",
    "export-plan",
]


def _store_fingerprint(ws_dir: Path) -> tuple[int, ...]:
    ws = Workspace.open(ws_dir, PASSPHRASE, use_keyring=False)
    try:
        with ws.session() as s:
            return _fingerprint(s) + (
                s.scalar(select(func.count()).select_from(m.CarePlan)),
                s.scalar(select(func.count()).select_from(m.Huddle)),
            )
    finally:
        ws.close()


def test_fuzz_cli_commands_never_crash_and_reject_without_writing(
    small_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    ws_dir = tmp_path / "cli-ws"
    shutil.copytree(small_template, ws_dir)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    csv_path = tmp_path / "in.csv"
    codes: dict[int, int] = {}

    @st.composite
    def command_line(draw: st.DrawFn) -> tuple[list[str], str]:
        command = draw(st.sampled_from(SAFE_COMMANDS))
        words = [*command.split(), "--workspace", str(ws_dir)]
        opts = [o for o in COMMAND_OPTIONS[command] if o not in ("-h", "--help", "--workspace")]
        for _ in range(draw(st.integers(0, 4))):
            opt = draw(st.sampled_from(opts)) if opts else None
            if opt:
                words.append(opt)
            if opt in ("--out", "--output", "-o"):
                words.append(str(out_dir / draw(st.sampled_from(["a.pdf", "x/y.pdf", ""]))))
            else:
                words.append(draw(arg_value))
        if command == "import-cohort":
            words.append(str(csv_path))
        return words, draw(csv_doc)

    @fast(120)
    @given(command_line())
    # Always tried, not left to the draws: commands refused with a typed error (a person's
    # number that fails its check digit; a file with no NHS number column) exit 2, no traceback.
    @example(
        (["export-plan", "--workspace", str(ws_dir), "--nhs-number", "9990000019",
          "--out", str(out_dir / "a.pdf")], "")
    )  # fmt: skip
    @example((["import-cohort", "--workspace", str(ws_dir), "--cohort", "x", str(csv_path)], "a"))
    def run(case: tuple[list[str], str]) -> None:
        words, csv_text = case
        csv_path.write_text(csv_text, encoding="utf-8")
        before = _store_fingerprint(ws_dir)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(words)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
        assert code in (0, 1, 2), (code, err.getvalue()[-300:])
        assert "Traceback" not in err.getvalue()
        if code != 0:
            assert _store_fingerprint(ws_dir) == before, "a rejected command changed the store"
        codes[code] = codes.get(code, 0) + 1

    run()
    assert codes.get(2, 0) > 10 and codes.get(0, 0) > 5
