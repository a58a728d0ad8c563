"""Cohort import from a PHM extract: mapping, validation report, all-or-nothing write,
idempotent re-import, cancel, and the headless command."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from int_desk.cli import main as cli_main
from int_desk.domain.errors import Interrupted, PermissionDenied, ValidationError
from int_desk.services import caseload as cl
from int_desk.services import cohort_import as ci
from int_desk.services.identity import actor_for, current_actor
from int_desk.store.models import AuditEvent, Cohort, CohortMembership, Member, Patient
from int_desk.store.sync_tables import SyncOutbox
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE

GOOD = (
    "nhs_number;surname;forename;DOB;post code;GP Practice Code;Risk Score\n"
    "9994765914;Example;Ann;1940-02-01;ox261ab;X90000;0.81\n"
    "999 476 5876;Sample;Bea;3/4/1936;OX26 2AB;X90001;0.5\n"
    "999-476-5833;Trial;Cy;05.05.1950;OX25 9ZZ;;\n"
)


def _counts(ws: Workspace) -> tuple[int, int, int]:
    with ws.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Patient)),
            s.scalar(select(func.count()).select_from(CohortMembership)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
        )


def _cohort(ws: Workspace, name: str = "Frailty") -> object:
    with ws.session() as s:
        return cl.resolve_cohort(s, current_actor(s), name)


def _preview(ws: Workspace, text: str, overrides: list[str] | None = None) -> ci.ImportPreview:
    table = ci.read_csv(text.encode("utf-8"))
    mapping = ci.apply_overrides(ci.auto_mapping(table.headers), overrides or [])
    with ws.session() as s:
        return ci.build_preview(
            session=s, actor=current_actor(s), cohort_id=_cohort(ws), table=table, mapping=mapping
        )


@pytest.mark.parametrize(
    ("header", "field"),
    [("NHS Number", "nhs_number"), ("nhs_number", "nhs_number"), ("NHS No.", "nhs_number"),
     ("Date of Birth", "date_of_birth"), ("DOB", "date_of_birth"), ("Forename", "given_name"),
     ("Surname", "family_name"), ("Postcode", "postcode"), ("Practice Code", "practice_code"),
     ("Reason for inclusion", "reason"), ("Risk Score", "risk_score"), ("Patient Name", "full_name"),
     ("Favourite colour", ci.IGNORE)],
)  # fmt: skip
def test_usual_header_spellings_are_recognised(header: str, field: str) -> None:
    assert ci.auto_mapping([header]) == {header: field}


def test_preview_then_import_then_reimport_changes_nothing(demo_ws: Workspace) -> None:
    before = _counts(demo_ws)
    preview = _preview(demo_ws, GOOD)
    assert preview.ok and preview.count(ci.NEW) == 3, preview.report_lines()
    assert _counts(demo_ws) == before  # a preview writes nothing
    with demo_ws.session() as s:
        result = ci.apply_import(session=s, actor=current_actor(s), preview=preview)
    assert (result.created_patients, result.enrolled) == (3, 3)
    after = _counts(demo_ws)
    assert after[:2] == (before[0] + 3, before[1] + 3)
    with demo_ws.session() as s:
        p = s.scalars(select(Patient).where(Patient.nhs_number == "9994765914")).one()
        assert (p.postcode, p.date_of_birth, p.given_name) == ("OX26 1AB", date(1940, 2, 1), "Ann")
        m = s.scalars(select(CohortMembership).where(CohortMembership.patient_id == p.id)).one()
        assert m.risk_score == 0.81 and m.source == "phm_import"
    # The new people are on the caseload at once.
    with demo_ws.session() as s:
        rows = cl.caseload(session=s, actor=current_actor(s),
                           filters=cl.CaseloadFilter(search="999 476 58"))  # fmt: skip
    assert {r.nhs_number for r in rows} == {"9994765876", "9994765833"}

    again = _preview(demo_ws, GOOD)
    assert again.count(ci.UNCHANGED) == 3 and not again.to_write
    with demo_ws.session() as s:
        ci.apply_import(session=s, actor=current_actor(s), preview=again)
    assert _counts(demo_ws)[:2] == after[:2]

    changed = GOOD.replace(";0.81", ";0.9")
    update = _preview(demo_ws, changed)
    assert update.count(ci.UPDATE) == 1 and update.count(ci.UNCHANGED) == 2


def test_validation_report_names_each_problem(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        existing = s.scalars(select(Patient).order_by(Patient.nhs_number).limit(1)).one()
    text = (
        "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code,Risk Score\n"
        "9994765914,Ann,Example,01/02/1940,OX26 1AB,X90000,0.2\n"  # 2 ok
        "9994765913,Bad,Check,01/02/1940,OX26 1AB,X90000,\n"  # 3 check digit
        "999476591,Short,Number,01/02/1940,OX26 1AB,X90000,\n"  # 4 9 digits
        "9994765876,Bad,Date,31/02/1940,OX26 1AB,X90000,\n"  # 5 bad date
        "9994765833,Future,Born,01/01/2099,OX26 1AB,X90000,\n"  # 6 future
        "9994765841,Odd,Practice,01/01/1950,OX26 1AB,QQ123,\n"  # 7 not a practice code: kept
        "9994765914,Ann,Example,01/02/1940,OX26 1AB,X90000,0.2\n"  # 8 duplicate of 2
        f"{existing.nhs_number},{existing.given_name},Someone-Else,{existing.date_of_birth:%d/%m/%Y},"
        f"{existing.postcode},X90000,\n"  # 9 conflicting demographics
        "9994775855,No,Postcode,01/01/1950,NOT A PC,X90000,\n"  # 10 bad postcode
        "9994765868,Risky,Score,01/01/1950,OX26 1AB,X90000,7\n"  # 11 risk score
    )
    preview = _preview(demo_ws, text)
    by_line = {r.line: r for r in preview.rows}
    assert {r.line for r in preview.rejected} == {2, 3, 4, 5, 6, 8, 9, 10, 11}
    assert by_line[7].status == ci.NEW and "not a GP practice code" in by_line[7].notes[0]
    expect = {
        3: "check digit", 4: "10 digits", 5: "not a date", 6: "in the future",
        8: "also on line 2", 2: "also on line 8",
        9: "family name differs", 10: "not a UK postcode", 11: "between 0 and 1",
    }  # fmt: skip
    for line, words in expect.items():
        assert any(words in p for p in by_line[line].problems), (line, by_line[line].problems)
    report = "\n".join(preview.report_lines())
    assert existing.family_name not in report and existing.nhs_number not in report
    before = _counts(demo_ws)
    with demo_ws.session() as s:
        result = ci.apply_import(session=s, actor=current_actor(s), preview=preview)
    assert result.enrolled == 1 and _counts(demo_ws)[0] == before[0] + 1  # line 7 only


def test_each_refused_cell_is_reported_in_the_words_of_its_column(demo_ws: Workspace) -> None:
    """Every cell a row's check refuses is listed, on the row's line, in the column's words; a
    file with one such row imports nothing of it."""
    long = "Ann" * 34  # 102 characters
    text = (
        "NHS Number,Forename,Surname,Date of Birth,Postcode,Risk Score,IMD Decile,Sex\n"
        f"9994765914,{long},Example,01/02/1940,OX26 1AB,high,0,X\n"
        "9994765833,Ann,Example,01-Feb-40,OX26 1AB,nan,3,F\n"
        "9994765841,Ann,Example,01/02/1940,OX26 1AB,0.123456,3,female\n"
    )
    preview = _preview(demo_ws, text)
    by_line = {r.line: r for r in preview.rows}
    assert by_line[2].problems == [
        "given name is longer than 100 characters",
        "risk score is not a number",
        "IMD decile must be a whole number from 1 (most deprived) to 10",
        "sex is not one of female, male, other, unknown",
    ]
    assert by_line[3].problems == [
        "date of birth has a two-digit year (write it in full, e.g. 1940)",
        "risk score must be between 0 and 1",
    ]
    taken = by_line[4].values
    assert by_line[4].status == ci.NEW and taken is not None
    assert (taken.risk_score, taken.imd_decile, taken.sex) == (0.1235, 3, "female")
    lines = preview.report_lines()
    assert any(line.startswith("  line 2: rejected - given name is longer") for line in lines)


def test_a_row_whose_date_of_birth_differs_is_never_merged(demo_ws: Workspace) -> None:
    """Same NHS number and name, another date of birth: a different person or a mistyped
    number. The row is rejected with the reason, and the stored person is neither changed nor
    enrolled in the cohort on the strength of it."""
    cohort_id = _cohort(demo_ws)
    with demo_ws.session() as s:
        in_cohort = select(CohortMembership.patient_id).where(
            CohortMembership.cohort_id == cohort_id
        )
        person = s.scalars(
            select(Patient).where(Patient.id.not_in(in_cohort)).order_by(Patient.nhs_number)
        ).first()
        assert person is not None
        stored = (person.id, person.date_of_birth, person.given_name, person.family_name)
    other_dob = stored[1] - timedelta(days=400)
    text = (
        "NHS Number,Forename,Surname,Date of Birth,Postcode\n"
        f"{person.nhs_number},{stored[2]},{stored[3]},{other_dob:%d/%m/%Y},{person.postcode}\n"
    )
    preview = _preview(demo_ws, text)
    (row,) = preview.rows
    assert row.status == ci.REJECTED and not preview.to_write
    assert any("date of birth" in p for p in row.problems), row.problems
    with demo_ws.session() as s:
        ci.apply_import(session=s, actor=current_actor(s), preview=preview)
    with demo_ws.session() as s:
        again = s.get(Patient, stored[0])
        assert again is not None
        assert (again.id, again.date_of_birth, again.given_name, again.family_name) == stored
        joined = s.scalars(
            select(CohortMembership).where(
                CohortMembership.cohort_id == cohort_id, CohortMembership.patient_id == stored[0]
            )
        ).all()
        assert joined == []


def test_mapping_problems_and_overrides(demo_ws: Workspace) -> None:
    text = "Identifier,Born,Given,Family,Where\n9994765914,1940-02-01,Ann,Example,OX26 1AB\n"
    preview = _preview(demo_ws, text)
    assert preview.problems and not preview.to_write
    fixed = _preview(
        demo_ws, text, ["Identifier=nhs_number", "Born=date_of_birth", "Where=postcode"]
    )
    assert not fixed.problems and fixed.count(ci.NEW) == 1
    with pytest.raises(ValidationError):
        ci.apply_overrides({"A": "ignore"}, ["Nope=nhs_number"])
    with pytest.raises(ValidationError):
        ci.apply_overrides({"A": "ignore"}, ["A=shoe_size"])


def test_cancel_leaves_nothing_half_written(demo_ws: Workspace) -> None:
    rows = ["NHS Number,Forename,Surname,DOB,Postcode,Practice Code"]
    from int_desk.domain import nhs_number

    with demo_ws.session() as s:  # new people only: numbers the demo has not used
        taken = set(s.scalars(select(Patient.nhs_number)))
    n = 0
    for middle in range(100, 1200):
        number = nhs_number.complete(f"999{middle:06d}")
        if number and number not in taken:
            rows.append(f"{number},Test,Person{n},01/01/1945,OX26 1AB,X90000")
            n += 1
    preview = _preview(demo_ws, "\n".join(rows) + "\n")
    # More rows than one write batch, cancelled once a batch is written in the transaction.
    assert preview.count(ci.NEW) == n > ci.WRITE_BATCH + 100
    before = _counts(demo_ws), _outbox(demo_ws)
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > ci.WRITE_BATCH + 60

    with pytest.raises(Interrupted), demo_ws.session() as s:
        ci.apply_import(session=s, actor=current_actor(s), preview=preview, cancelled=cancelled)
    assert (_counts(demo_ws), _outbox(demo_ws)) == before


def _outbox(ws: Workspace) -> int:
    with ws.session() as s:
        return s.scalar(select(func.count()).select_from(SyncOutbox)) or 0


def test_only_permitted_roles_import(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        nurse = s.scalars(select(Member.id).where(Member.role == "district_nurse")).first()
        actor = actor_for(s, nurse)
        cohort = s.scalars(select(Cohort.id).where(Cohort.team_id.in_(actor.team_ids))).first()
        table = ci.read_csv(GOOD.encode())
        with pytest.raises(PermissionDenied):
            ci.build_preview(session=s, actor=actor, cohort_id=cohort, table=table,
                             mapping=ci.auto_mapping(table.headers))  # fmt: skip


def test_import_cohort_command(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    bad = tmp_path / "extract.csv"
    bad.write_text(GOOD + "1234567890;Bad;Row;1940-01-01;OX26 1AB;X90000;\n", encoding="utf-8")
    args = ["import-cohort", "--workspace", str(demo_dir), "--cohort", "Frailty", str(bad)]
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        before = _counts(ws)
    assert cli_main([*args, "--dry-run"]) == 1  # rejected rows -> non-zero, nothing written
    out = capsys.readouterr().out
    assert "line 5: rejected - invalid NHS number" in out and "Dry run" in out
    assert "NHS number" in out and "-> Date of birth" in out  # the mapping is printed
    assert cli_main([*args, "--strict"]) == 1
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        assert _counts(ws)[:2] == before[:2]
    assert cli_main(args) == 1  # valid rows imported, the rejected one reported
    out = capsys.readouterr().out
    assert "3 new people, 3 enrolled" in out
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        after = _counts(ws)
    assert after[:2] == (before[0] + 3, before[1] + 3)
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    assert cli_main(["import-cohort", "--workspace", str(demo_dir), "--cohort", "frailty",
                     str(good)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "3 unchanged" in out
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        assert _counts(ws)[:2] == after[:2]
    assert cli_main(["import-cohort", "--workspace", str(demo_dir), "--cohort", "No such",
                     str(good)]) == 2  # fmt: skip
    mapped = tmp_path / "odd.csv"
    mapped.write_text("Id,Born,Given,Family,Where\n9994765914,1940-02-01,Ann,Example,OX26 1AB\n")
    code = cli_main(["import-cohort", "--workspace", str(demo_dir), "--cohort", "Frailty",
                     str(mapped), "--dry-run", "--map", "Id=nhs_number", "--map",
                     "Born=date_of_birth", "--map", "Where=postcode"])  # fmt: skip
    assert code == 0 and "1 unchanged" in capsys.readouterr().out


def _one_existing(ws: Workspace) -> Patient:
    with ws.session() as s:
        cohort = s.get(Cohort, _cohort(ws))
        member = s.scalars(
            select(CohortMembership).where(CohortMembership.cohort_id == cohort.id)
        ).first()
        return s.get(Patient, member.patient_id)


def test_curly_apostrophes_non_breaking_and_repeated_spaces_still_match(
    demo_ws: Workspace,
) -> None:
    p = _one_existing(demo_ws)
    with demo_ws.session() as s:
        s.get(Patient, p.id).family_name = "O'Brien Smith"
        s.get(Patient, p.id).given_name = "Mary Ann"
    header = "NHS Number,Forename,Surname,Date of Birth,Postcode\n"
    typed = f"{p.nhs_number},MARY\u00a0 ANN,O\u2019BRIEN  SMITH,{p.date_of_birth:%d-%b-%Y},{p.postcode}\n"
    preview = _preview(demo_ws, header + typed)
    assert preview.rows[0].status != ci.REJECTED, preview.report_lines()
    other = typed.replace("O\u2019BRIEN", "O\u2019BRYAN")
    assert _preview(demo_ws, header + other).rows[0].problems == [
        "conflicts with the existing record: family name differs"
    ]


def test_placeholder_nhs_numbers_are_rejected_with_the_reason(demo_ws: Workspace) -> None:
    text = (
        "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code\n"
        "0000000000,Ann,Example,01/02/1940,OX26 1AB,X90000\n"
        "999 999 9999,Bea,Sample,01/02/1940,OX26 1AB,X90000\n"
    )
    preview = _preview(demo_ws, text)
    assert [r.status for r in preview.rows] == [ci.REJECTED, ci.REJECTED]
    for r in preview.rows:
        assert any("a placeholder (one digit repeated)" in p for p in r.problems), r.problems
