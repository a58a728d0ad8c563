"""Hospital admissions in: preview, validation, one-transaction write, re-import, and the
scorecard counting what was imported the same as what was recorded on the record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from int_desk.cli import main as cli_main
from int_desk.domain.errors import Interrupted, PermissionDenied, ValidationError
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.scorecard import ScorecardQuery
from int_desk.domain.vocab import HealthEventKind, Role
from int_desk.services import admission_rows, scorecard
from int_desk.services import admissions_import as ai
from int_desk.services.identity import actor_for, current_actor
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.helpers.scorecard_world import (
    PASSPHRASE,
    START,
    TODAY,
    ScorecardWorld,
    build_scorecard_world,
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ScorecardWorld]:
    w = build_scorecard_world(tmp_path / "ws")
    yield w
    w.ws.close()


def nhs(world: ScorecardWorld, key: str) -> str:
    with world.ws.session() as s:
        patient = s.get(m.Patient, world.people[key])
        assert patient is not None
        return patient.nhs_number


def extract(world: ScorecardWorld) -> str:
    a, b, c, d, e = (format_nhs(nhs(world, k)) for k in "ABCDE")
    return "\n".join(
        [
            "NHS Number,ADMIDATE,ADMIMETH,DISDATE,PROCODE",
            f"{a},01/03/2026,21,04/03/2026,RTH",  # 2: new emergency stay with discharge
            f"{d},12-Feb-2026,11,13-Feb-2026,RTH",  # 3: elective: an admission, not emergency
            f"{c},20/01/2026,21,25/01/2026,RTH",  # 4: already recorded (from the feed)
            f"{b},20/02/2026,2A,25/02/2026,RTH",  # 5: stay known, its discharge new
            f"{a},02/03/2026,99,,RTH",  # 6: not an admission method
            f"{a},01/04/2026,21,,RTH",  # 7: in the future
            f"{d},10/03/2026,22,08/03/2026,RTH",  # 8: discharged before admitted
            "999 000 0001,01/03/2026,21,,RTH",  # 9: not a valid NHS number
            f"{e},01/03/2026,21,,RTH",  # 10: another team's person
            f"{a},01/03/2026,21,04/03/2026,RTH",  # 11: the same stay as line 2
            f"{d},03/03/2026,23,,",  # 12: new, still in hospital, provider not given
        ]
    )


def preview(world: ScorecardWorld, text: str) -> ai.AdmissionsPreview:
    table = ai.read_admissions(text.encode("utf-8"), name="admissions.csv")
    with world.ws.session() as s:
        return ai.build_preview(
            session=s,
            actor=current_actor(s),
            table=table,
            mapping=ai.auto_mapping(table.headers),
            today=TODAY,
        )


def events(world: ScorecardWorld) -> int:
    with world.ws.session() as s:
        return s.scalar(select(func.count()).select_from(m.HealthEvent)) or 0


def test_preview_classifies_every_row_and_writes_nothing(world: ScorecardWorld) -> None:
    before = events(world)
    p = preview(world, extract(world))
    assert p.mapping == {
        "NHS Number": "nhs_number",
        "ADMIDATE": "admission_date",
        "ADMIMETH": "admission_method",
        "DISDATE": "discharge_date",
        "PROCODE": "provider",
    }
    status = {r.line: r.status for r in p.rows}
    assert status == {2: "new", 3: "new", 4: "unchanged", 5: "discharge", 6: "rejected",
                      7: "rejected", 8: "rejected", 9: "rejected", 10: "rejected",
                      11: "rejected", 12: "new"}  # fmt: skip
    reasons = {r.line: "; ".join(r.problems) for r in p.rows}
    assert "admission method is not a known code" in reasons[6]
    assert reasons[7] == "admission date is in the future"
    assert reasons[8] == "discharge date is before the admission date"
    assert reasons[9].startswith("invalid NHS number")
    assert reasons[10] == "no one with this NHS number is on your teams' caseload"
    assert reasons[11] == "duplicate: the same stay is also on line 2"
    assert [r.kind for r in p.rows if r.line in (2, 3)] == [
        HealthEventKind.EMERGENCY_ADMISSION,
        HealthEventKind.ADMISSION,
    ]
    assert p.summary() == (
        "11 rows: 3 new stays (2 emergency), 1 discharges to add, 1 already recorded, 6 rejected."
    )
    report = "\n".join(p.report_lines())
    assert nhs(world, "A") not in report.replace(" ", "")  # no NHS numbers in the report
    assert events(world) == before


def test_import_writes_events_in_one_go_and_again_writes_nothing(world: ScorecardWorld) -> None:
    before = events(world)
    p = preview(world, extract(world))
    with world.ws.session() as s:
        result = ai.apply_import(session=s, actor=current_actor(s), preview=p)
    assert (result.admissions, result.emergency, result.discharges) == (3, 2, 3)
    assert events(world) == before + 6
    with world.ws.session() as s:
        rows = s.execute(
            select(m.HealthEvent.kind, m.HealthEvent.occurred_on, m.HealthEvent.source).where(
                m.HealthEvent.patient_id == world.people["D"],
                m.HealthEvent.occurred_on >= date(2026, 2, 1),
                m.HealthEvent.occurred_on < date(2026, 3, 5),
            )
        ).all()
        assert sorted(rows) == [
            ("admission", date(2026, 2, 12), "RTH"),
            ("discharge", date(2026, 2, 13), "RTH"),
            ("emergency_admission", date(2026, 3, 3), ai.DEFAULT_PROVIDER),
        ]
        audited = s.scalars(
            select(m.AuditEvent.detail).where(m.AuditEvent.entity_type == "health_event")
        ).all()
        assert sum(d == "kind=emergency_admission source=admissions_import" for d in audited) == 2
        assert any(d.startswith("admissions import rows=11 admissions=3") for d in audited)
    # The same file again: every row already recorded or rejected, nothing written.
    again = preview(world, extract(world))
    assert again.count("new") == again.count("discharge") == 0
    assert again.count("unchanged") == 5


def test_cancel_or_failure_leaves_nothing(world: ScorecardWorld) -> None:
    before = events(world)
    p = preview(world, extract(world))
    calls = {"n": 0}

    def cancel_after_first() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(Interrupted):
        with world.ws.session() as s:
            ai.apply_import(session=s, actor=current_actor(s), preview=p,
                            cancelled=cancel_after_first)  # fmt: skip
    assert events(world) == before
    bad = preview(world, "NHS Number,Admission date\n")  # no method column
    assert bad.problems == ["No column is mapped to admission method."]
    with pytest.raises(ValidationError):
        with world.ws.session() as s:
            ai.apply_import(session=s, actor=current_actor(s), preview=bad)
    assert events(world) == before


def test_the_scorecard_counts_imported_and_recorded_admissions_alike(
    world: ScorecardWorld,
) -> None:
    query = ScorecardQuery(start=START, end=TODAY)

    def march_admissions() -> float | None:
        with world.ws.session() as s:
            card = scorecard.scorecard(session=s, actor=current_actor(s), query=query, today=TODAY)
        return card.measure("emergency_admissions").overall.series[2].numerator

    assert march_admissions() == 1  # D's on 5 Mar
    p = preview(world, extract(world))
    with world.ws.session() as s:
        ai.apply_import(session=s, actor=current_actor(s), preview=p)
    assert march_admissions() == 3  # + A on 1 Mar, D on 3 Mar (the elective one is not)
    with world.ws.session() as s:
        ai.record_hospital_event(
            session=s, actor=current_actor(s), patient_id=world.people["C"],
            kind=HealthEventKind.EMERGENCY_ADMISSION, on=date(2026, 3, 15), provider="JR",
        )  # fmt: skip
    assert march_admissions() == 4


def test_who_may_import(world: ScorecardWorld) -> None:
    with world.ws.session() as s:
        vcse = m.Member(name="Val Sykes", role=Role.VCSE_WORKER.value)
        s.add(vcse)
        s.flush()
        s.add(m.TeamMembership(team_id=world.team_id, member_id=vcse.id))
        s.flush()
        actor = actor_for(s, vcse.id)
    table = ai.read_admissions(extract(world).encode(), name="a.csv")
    with world.ws.session() as s, pytest.raises(PermissionDenied):
        ai.build_preview(session=s, actor=actor, table=table,
                         mapping=ai.auto_mapping(table.headers), today=TODAY)  # fmt: skip
    with world.ws.session() as s, pytest.raises(PermissionDenied):
        ai.record_hospital_event(session=s, actor=actor, patient_id=world.people["A"],
                                 kind=HealthEventKind.DISCHARGE, on=TODAY)  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "kind"),
    [("21", "emergency_admission"), ("2a", "emergency_admission"), ("28", "emergency_admission"),
     ("Emergency", "emergency_admission"), ("11", "admission"), ("31", "admission"),
     ("81", "admission"), ("elective", "admission")],
)  # fmt: skip
def test_admission_method_codes(raw: str, kind: str) -> None:
    assert admission_rows.admission_kind(raw).value == kind


@pytest.mark.parametrize("raw", ["", "29", "2E", "99", "98", "A&E"])
def test_unknown_admission_methods_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        admission_rows.admission_kind(raw)


GOOD = {"nhs_number": "999 000 1103", "admission_date": "01/03/2026", "admission_method": "21"}


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"nhs_number": "999 000 1104"}, "invalid NHS number (nhs number check digit is wrong)"),
        ({"nhs_number": ""}, "invalid NHS number (nhs number is empty)"),
        ({"admission_date": ""}, "admission date is missing"),
        ({"admission_date": "21/03/2026"}, "admission date is in the future"),
        ({"admission_date": "31/12/1995"}, "admission date is more than 30 years ago"),
        ({"admission_date": "30/02/2026"}, "admission date is not a date (there is no such day)"),
        ({"admission_date": "1/3/26"}, "admission date has a two-digit year (write it in full, e.g. 1940)"),
        ({"admission_date": "01-Mrz-2026"}, "admission date has an unknown month name"),
        ({"discharge_date": "21/03/2026"}, "discharge date is in the future"),
        ({"discharge_date": "soon"},
         "discharge date is not a date (use e.g. 31/12/1940, 31-Dec-1940 or 1940-12-31)"),
        ({"discharge_date": "28/02/2026"}, "discharge date is before the admission date"),
        ({"admission_method": ""}, "admission method is missing"),
        ({"admission_method": "99"},
         "admission method is not a known code (21-28 or 2A-2D emergency; 11-13 elective; "
         "31-32 maternity; 81-83 other)"),
    ],
)  # fmt: skip
def test_each_refused_cell_is_reported_in_the_words_of_its_column(
    cells: dict[str, str], problem: str
) -> None:
    """One bad cell in an otherwise good row: exactly its refusal (the report adds the line)."""
    _stay, problems = admission_rows.parse_stay({**GOOD, **cells}, TODAY)
    assert problems == [problem]


def test_a_good_row_is_read_as_the_stay_it_describes() -> None:
    stay, problems = admission_rows.parse_stay(
        {**GOOD, "admission_method": "2b", "discharge_date": "2026-03-04",
         "provider": "  Royal   Berkshire\tHospital "},
        TODAY,
    )  # fmt: skip
    assert problems == []
    assert (stay.nhs_number, stay.kind, stay.admitted, stay.discharged, stay.provider) == (
        "9990001103", HealthEventKind.EMERGENCY_ADMISSION, date(2026, 3, 1), date(2026, 3, 4),
        "Royal Berkshire Hospital",
    )  # fmt: skip
    assert admission_rows.parse_stay(GOOD, TODAY)[0].provider == ai.DEFAULT_PROVIDER


def test_cli(
    world: ScorecardWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "admissions.csv"
    path.write_text(extract(world), encoding="utf-8")
    before = events(world)
    world.ws.close()
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    args = ["import-admissions", "--workspace", str(world.ws.directory), str(path)]
    assert cli_main([*args, "--dry-run"]) == 1  # rejected rows: non-zero, nothing written
    out = capsys.readouterr().out
    assert "ADMIMETH -> Admission method" in out
    assert "Dry run: nothing was written." in out and "line 6: rejected" in out
    assert cli_main([*args, "--strict"]) == 1
    assert "Strict: rows were rejected, so nothing was written." in capsys.readouterr().out
    with Workspace.open(world.ws.directory, PASSPHRASE) as ws, ws.session() as s:
        assert s.scalar(select(func.count()).select_from(m.HealthEvent)) == before
    assert cli_main(args) == 1  # written, but some rows were rejected
    assert "Imported: " in capsys.readouterr().out
    with Workspace.open(world.ws.directory, PASSPHRASE) as ws, ws.session() as s:
        assert (s.scalar(select(func.count()).select_from(m.HealthEvent)) or 0) > before
    missing = tmp_path / "nope.csv"
    assert cli_main(["import-admissions", "--workspace", str(world.ws.directory),
                     str(missing)]) == 2  # fmt: skip
    assert "No such file" in capsys.readouterr().err


def test_cli_field_list_matches_the_service() -> None:
    from int_desk.cli.admissions_cmd import FIELDS

    assert FIELDS == ", ".join([*ai.FIELDS, ai.IGNORE])
