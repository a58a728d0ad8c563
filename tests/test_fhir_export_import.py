"""FHIR R4 / UK Core export and import: every resource checked by fhir.resources (R4B) and the
UK Core rules, consent and scope obeyed, export then import returning the same people, and
bad input reported without writing anything."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from int_desk.cli import main as cli_main
from int_desk.domain.care_plan import ConsentNotGiven
from int_desk.domain.errors import PermissionDenied, ValidationError
from int_desk.domain.vocab import CarePlanStatus, Role
from int_desk.fhir import reading
from int_desk.services import caseload as cl
from int_desk.services import cohort_import as ci
from int_desk.services import fhir_export, fhir_import
from int_desk.services.care_plan_export import find_cohort
from int_desk.services.demo import build_demo
from int_desk.services.identity import current_actor
from int_desk.store.models import (
    AuditEvent,
    CarePlan,
    Cohort,
    Flag,
    Organisation,
    Patient,
)
from int_desk.store.workspace import Workspace
from tests.conftest import DEMO_TODAY, PASSPHRASE
from tests.helpers.care_plan_data import actor_with_role
from tests.helpers.fhir_checks import problems, references

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _ndjson(folder: Path) -> dict[str, list[dict]]:
    return {
        f.stem: [json.loads(line) for line in f.read_text().splitlines()]
        for f in sorted(folder.glob("*.ndjson"))
    }


def _export_frailty(ws: Workspace, out: Path) -> fhir_export.GroupExport:
    with ws.session() as s:
        actor = current_actor(s)
        cohort = find_cohort(s, actor, "Frailty")
        return fhir_export.export_group(session=s, actor=actor, cohort_id=cohort.id, out_dir=out)


def _shareable_nhs(ws: Workspace) -> str:
    with ws.session() as s:
        return s.scalars(
            select(Patient.nhs_number)
            .join(CarePlan, CarePlan.patient_id == Patient.id)
            .where(CarePlan.status == "active", CarePlan.consent_decision == "permit")
            .where(cl_scope(s))
            .order_by(Patient.nhs_number)
        ).first()


def cl_scope(s):  # noqa: ANN001, ANN201 - the signed-in member's caseload
    from int_desk.services.access import visible_patient_filter

    return visible_patient_filter(current_actor(s))


def test_every_exported_resource_passes_fhir_resources_and_uk_core(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    result = _export_frailty(demo_ws, tmp_path / "out")
    files = _ndjson(tmp_path / "out")
    assert result.people > 10 and result.skipped_no_consent > 0
    expected = {"Patient", "Organization", "Practitioner", "CarePlan", "CareTeam", "Goal",
                "Consent", "Provenance", "Flag", "Condition", "Task", "ServiceRequest"}  # fmt: skip
    assert expected <= set(files), set(files)
    found = [p for rows in files.values() for r in rows for p in problems(r)]
    assert found == []
    # Bulk Data layout: one file per type, a manifest naming them with their counts.
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {o["type"]: o["count"] for o in manifest["output"]} == {
        t: len(rows) for t, rows in files.items()
    }
    # Every reference points at a resource the export holds (shared ones written once).
    ids = {f"{t}/{r['id']}" for t, rows in files.items() for r in rows}
    assert len(ids) == sum(len(rows) for rows in files.values())
    dangling = {ref for rows in files.values() for r in rows for ref in references(r)} - ids
    assert dangling == set()
    plan = files["CarePlan"][0]
    assert (plan["status"], plan["intent"]) == ("active", "plan")
    assert any(n["text"].startswith("Contingency / crisis plan: ") for n in plan["note"])
    assert {c["provision"]["type"] for c in files["Consent"]} == {"permit"}


def test_one_person_bundle_resolves_within_itself(demo_ws: Workspace, tmp_path: Path) -> None:
    nhs = _shareable_nhs(demo_ws)
    with demo_ws.session() as s:
        done = fhir_export.export_person(
            session=s, actor=current_actor(s), nhs_number=nhs, out=tmp_path / "p.json"
        )
    bundle = json.loads(done.path.read_text())
    assert problems(bundle) == []
    resources = [e["resource"] for e in bundle["entry"]]
    assert [p for r in resources for p in problems(r)] == []
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    assert len(full_urls) == len(bundle["entry"])  # unique, as a Bundle requires
    assert set(references(bundle)) <= full_urls
    patient = resources[0]
    assert patient["resourceType"] == "Patient"
    assert [i["value"] for i in patient["identifier"] if i["system"] == NHS] == [nhs]
    types = {r["resourceType"] for r in resources}
    assert {"CarePlan", "Goal", "CareTeam", "Consent", "Provenance", "Organization"} <= types
    team = next(r for r in resources if r["resourceType"] == "CareTeam")
    roles = {c["code"] for p in team["participant"] for cc in p["role"] for c in cc["coding"]}
    assert "lead" in roles
    with demo_ws.session() as s:
        entry = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert entry.action == "E" and "fhir" in entry.detail and nhs not in entry.detail


def test_consent_declined_or_missing_never_leaves(demo_ws: Workspace, tmp_path: Path) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        declined = s.scalars(
            select(Patient.nhs_number)
            .join(CarePlan, CarePlan.patient_id == Patient.id)
            .where(CarePlan.status == CarePlanStatus.ACTIVE.value)
            .where(CarePlan.consent_decision != "permit", cl_scope(s))
        ).first()
        with pytest.raises(ConsentNotGiven):
            fhir_export.export_person(
                session=s, actor=actor, nhs_number=declined, out=tmp_path / "x.json"
            )
    assert not (tmp_path / "x.json").exists()
    _export_frailty(demo_ws, tmp_path / "out")
    exported = (tmp_path / "out" / "Patient.ndjson").read_text()
    with demo_ws.session() as s:
        unshared = s.scalars(
            select(Patient.nhs_number)
            .join(CarePlan, CarePlan.patient_id == Patient.id)
            .where(CarePlan.status == "active", CarePlan.consent_decision.is_not("permit"))
        ).all()
    assert unshared and not any(n in exported for n in unshared)


def test_export_needs_permission_and_scope(demo_ws: Workspace, tmp_path: Path) -> None:
    with demo_ws.session() as s:
        admin = actor_with_role(s, Role.ADMIN)
        cohort = find_cohort(s, current_actor(s), "Frailty")
        with pytest.raises(PermissionDenied):
            fhir_export.export_group(
                session=s, actor=admin, cohort_id=cohort.id, out_dir=tmp_path / "a"
            )
        mine = current_actor(s).team_ids
        other_team = s.scalars(select(Cohort.id).where(Cohort.team_id.not_in(mine)).limit(1)).one()
        with pytest.raises(PermissionDenied):
            fhir_export.export_group(
                session=s, actor=current_actor(s), cohort_id=other_team, out_dir=tmp_path / "b"
            )
    assert not list((tmp_path).glob("*/*.ndjson"))


def test_non_clinical_export_carries_no_clinical_content(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    with demo_ws.session() as s:
        team = next(iter(current_actor(s).team_ids))
        config = dict(s.get(fhir_export.m.Team, team).config or {})
        config["role_permissions"] = {"social_worker": ["export_plan"]}
        s.get(fhir_export.m.Team, team).config = config
    with demo_ws.session() as s:
        worker = actor_with_role(s, Role.SOCIAL_WORKER)
        cohort = find_cohort(s, worker, "Frailty")
        fhir_export.export_group(
            session=s, actor=worker, cohort_id=cohort.id, out_dir=tmp_path / "out"
        )
    files = _ndjson(tmp_path / "out")
    assert files["CarePlan"] and "Condition" not in files
    notes = [n["text"] for r in files["CarePlan"] for n in r.get("note", [])]
    assert not any(n.startswith(("Clinical summary", "Medicines notes")) for n in notes)


def _fresh_workspace(directory: Path) -> Workspace:
    """Another team's laptop: the same demo teams and practices, different people."""
    ws = Workspace.create(directory, PASSPHRASE, use_keyring=False)
    with ws.session() as s:
        build_demo(s, patients=6, seed=2024, today=DEMO_TODAY)
    return ws


def _people(ws: Workspace, numbers: set[str]) -> dict[str, tuple]:
    with ws.session() as s:
        out = {}
        for p in s.scalars(select(Patient).where(Patient.nhs_number.in_(numbers))):
            practice = s.get(Organisation, p.practice_id).code if p.practice_id else None
            flags = sorted(
                s.scalars(select(Flag.code).where(Flag.patient_id == p.id, Flag.active.is_(True)))
            )
            conditions = sorted(c.strip() for c in p.long_term_conditions.split(",") if c.strip())
            out[p.nhs_number] = (p.given_name, p.family_name, p.date_of_birth, p.sex,
                                 p.postcode, practice, flags, conditions)  # fmt: skip
        return out


def test_export_then_import_returns_the_same_people(demo_ws: Workspace, tmp_path: Path) -> None:
    _export_frailty(demo_ws, tmp_path / "out")
    numbers = {
        i["value"]
        for r in _ndjson(tmp_path / "out")["Patient"]
        for i in r["identifier"]
        if i["system"] == NHS
    }
    original = _people(demo_ws, numbers)
    other = _fresh_workspace(tmp_path / "other")
    try:
        parsed = fhir_import.read_file(tmp_path / "out")
        with other.session() as s:
            cohort = cl.resolve_cohort(s, current_actor(s), "Frailty")
            preview = fhir_import.build_preview(
                session=s, actor=current_actor(s), cohort_id=cohort, parsed=parsed
            )
        assert preview.rows.ok, preview.report_lines()
        assert preview.rows.count(ci.NEW) == len(numbers)
        with other.session() as s:
            result = fhir_import.apply_import(session=s, actor=current_actor(s), preview=preview)
        assert result.created_patients == len(numbers) and result.flags > 0
        assert _people(other, numbers) == original
        # Importing the same export again changes nothing.
        with other.session() as s:
            again = fhir_import.build_preview(
                session=s, actor=current_actor(s), cohort_id=cohort, parsed=parsed
            )
            result = fhir_import.apply_import(session=s, actor=current_actor(s), preview=again)
        assert (result.created_patients, result.flags, result.conditions) == (0, 0, 0)
    finally:
        other.close()


def _bundle(*resources: dict) -> bytes:
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection",
         "entry": [{"fullUrl": f"urn:uuid:{n}", "resource": r} for n, r in enumerate(resources)]}
    ).encode()  # fmt: skip


PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": NHS, "value": "9994765914"}],
    "name": [{"use": "official", "family": "Example", "given": ["Ann"]}],
    "birthDate": "1940-02-01",
    "gender": "female",
    "address": [{"use": "home", "postalCode": "OX26 1AB"}],
    "generalPractitioner": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X90000"}}],
}  # fmt: skip


def _preview_bytes(ws: Workspace, data: bytes, name: str = "in.json") -> fhir_import.FhirPreview:
    parsed = reading.read_bytes(data, name=name)
    with ws.session() as s:
        cohort = cl.resolve_cohort(s, current_actor(s), "Frailty")
        return fhir_import.build_preview(
            session=s, actor=current_actor(s), cohort_id=cohort, parsed=parsed
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"resourceType": "Bundle", "entry": [', "not valid JSON"),
        (b'{"resourceType": "Observation"}', "resourceType is Observation"),
        (b"[1, 2]", "not a FHIR resource"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"   ", "empty"),
        (b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
        (b'{"resourceType": "Patient"}\n{"resourceType": "Patient", oops}\n', "Line 2"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_reason(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        reading.read_bytes(data, name="in.ndjson" if b"\n" in data else "in.json")


def test_entry_problems_reject_the_person_and_write_nothing(
    demo_ws: Workspace,
) -> None:
    no_number = {**PATIENT, "id": "p2", "identifier": [{"system": "urn:other", "value": "1"}]}
    bad_check = {**PATIENT, "id": "p3", "identifier": [{"system": NHS, "value": "9994765913"}]}
    foreign_flag = {
        "resourceType": "Flag", "status": "active", "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "160689007"}]},
    }  # fmt: skip
    data = _bundle(PATIENT, no_number, bad_check, foreign_flag)
    with demo_ws.session() as s:
        before = s.scalar(select(func.count()).select_from(Patient))
    preview = _preview_bytes(demo_ws, data)
    report = "\n".join(preview.report_lines())
    assert preview.rows.count(ci.REJECTED) == 3, report
    assert "entry 1: rejected - Flag code system http://snomed.info/sct is not one" in report
    assert "entry 2: rejected - no NHS number identifier" in report
    assert "entry 3: rejected - invalid NHS number (nhs number check digit is wrong)" in report
    assert "9994765913" not in report  # no value is repeated back
    with demo_ws.session() as s:
        fhir_import.apply_import(session=s, actor=current_actor(s), preview=preview)
        assert s.scalar(select(func.count()).select_from(Patient)) == before


def test_a_flag_about_nobody_in_the_file_stops_the_whole_import(demo_ws: Workspace) -> None:
    stray = {"resourceType": "Flag", "status": "active", "subject": {"reference": "Patient/zz"},
             "code": {"coding": [{"system": "urn:int-desk:fhir:CodeSystem:flag",
                                  "code": "housebound"}]}}  # fmt: skip
    preview = _preview_bytes(demo_ws, _bundle(PATIENT, stray))
    assert preview.problems == ["entry 2: the Flag's subject is not a Patient in this file"]
    with demo_ws.session() as s, pytest.raises(ValidationError, match="Cannot import"):
        fhir_import.apply_import(session=s, actor=current_actor(s), preview=preview)


def test_huge_bundle_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_RESOURCES", 100)
    with pytest.raises(ValidationError, match="more than 100 entries"):
        reading.read_bytes(_bundle(*([PATIENT] * 101)))


def test_a_failure_mid_write_leaves_nothing(demo_ws: Workspace) -> None:
    """The workspace changes between preview and write: the write refuses, nothing is kept."""
    flag = {"resourceType": "Flag", "status": "active", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "urn:int-desk:fhir:CodeSystem:flag",
                                 "code": "housebound"}]}}  # fmt: skip
    second = {**PATIENT, "id": "p9", "identifier": [{"system": NHS, "value": "9994765876"}]}
    preview = _preview_bytes(demo_ws, _bundle(PATIENT, flag, second))
    assert preview.rows.count(ci.NEW) == 2
    with demo_ws.session() as s:
        counts = (
            s.scalar(select(func.count()).select_from(Patient)),
            s.scalar(select(func.count()).select_from(Flag)),
        )
        s.add(
            Patient(nhs_number="9994765876", given_name="A", family_name="B",
                    date_of_birth=date(1950, 1, 1), sex="female", postcode="OX26 1AB")
        )  # fmt: skip
    with pytest.raises(ValidationError, match="changed since the preview"):
        with demo_ws.session() as s:
            fhir_import.apply_import(session=s, actor=current_actor(s), preview=preview)
    with demo_ws.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == counts[0] + 1
        assert s.scalar(select(func.count()).select_from(Flag)) == counts[1]
        assert s.scalar(select(Patient.id).where(Patient.nhs_number == "9994765914")) is None


def test_cli_export_and_import(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # noqa: ANN001
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        nhs = _shareable_nhs(ws)
    out = tmp_path / "one.json"
    assert cli_main(["export-fhir", "--workspace", str(demo_dir), "--nhs-number", nhs,
                     "--out", str(out)]) == 0  # fmt: skip
    assert json.loads(out.read_text())["resourceType"] == "Bundle"
    folder = tmp_path / "bulk"
    assert cli_main(["export-fhir", "--workspace", str(demo_dir), "--team", "Bicester INT",
                     "--out", str(folder), "--quiet"]) == 0  # fmt: skip
    assert (folder / "Patient.ndjson").exists()
    code = cli_main(["import-fhir", "--workspace", str(demo_dir), "--cohort", "Frailty",
                     str(out), "--dry-run"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and "Dry run: nothing was written." in printed
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Observation"}')
    assert cli_main(["import-fhir", "--workspace", str(demo_dir), "--cohort", "Frailty",
                     str(bad)]) == 2  # fmt: skip
