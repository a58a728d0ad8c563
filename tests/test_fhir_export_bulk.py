"""The bulk export's fast paths give the same answers as the plain ones: rows read as stored
text are the wire rows sync sends, the consent pre-filter leaves out exactly the people without
consent, audit entries are written in one run yet each person exported has one (the chain
intact), and referrals name their service with the vocabulary's proper label."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from int_desk.domain.vocab import ReferralService
from int_desk.fhir import mapping
from int_desk.services import fhir_export
from int_desk.services.care_plan_export import find_cohort
from int_desk.services.identity import current_actor
from int_desk.store import audit
from int_desk.store.models import AuditEvent, Base, CarePlan, CohortMembership
from int_desk.store.workspace import Workspace
from int_desk.wire import schema
from tests.helpers.fhir_checks import problems


def test_rows_read_for_export_are_the_wire_rows_sync_sends(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        for name, ent in schema.ENTITIES.items():
            table = Base.metadata.tables[name]
            model = next(mp.class_ for mp in Base.registry.mappers if mp.local_table is table)
            expected = []
            for row in s.execute(select(table).where(table.c.deleted.is_(False))).mappings():
                wire = schema.row_to_wire(ent, dict(row))
                expected.append({**wire, "id": str(row["id"])})
            assert fhir_export._select(s, model) == expected, name


def test_group_export_audits_each_person_once_in_an_intact_chain(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        cohort = find_cohort(s, actor, "Frailty")
        before = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
        members = set(
            s.scalars(
                select(CohortMembership.patient_id).where(
                    CohortMembership.cohort_id == cohort.id,
                    CohortMembership.discharged_on.is_(None),
                    CohortMembership.deleted.is_(False),
                )
            )
        )
        consenting = set(
            s.scalars(
                select(CarePlan.patient_id).where(
                    CarePlan.patient_id.in_(members),
                    CarePlan.status == "active",
                    CarePlan.consent_decision == "permit",
                )
            )
        )
        result = fhir_export.export_group(
            session=s, actor=actor, cohort_id=cohort.id, out_dir=tmp_path / "out"
        )
    exported = {
        json.loads(line)["id"]
        for line in (tmp_path / "out" / "Patient.ndjson").read_text().splitlines()
    }
    assert exported == {str(p) for p in consenting} and result.people == len(consenting)
    assert result.skipped_no_consent == len(members) - len(consenting) > 0
    with demo_ws.session() as s:
        entries = list(s.scalars(select(AuditEvent).where(AuditEvent.seq > before)))
        assert audit.verify(s).intact
    people = [e for e in entries if e.entity_type == "care_plan"]
    assert sorted(str(e.patient_id) for e in people) == sorted(exported)
    assert all(e.action == "E" and "ndjson batch=" in e.detail for e in people)
    (batch,) = [e for e in entries if e.entity_type == "cohort"]
    assert batch.entity_id == cohort.id and f"people={result.people}" in batch.detail
    assert entries[-1] is batch  # the batch's own entry closes the run


def test_referrals_name_the_service_with_its_proper_label() -> None:
    person = mapping.PersonData(patient={"id": "0b7c3f5e-2f6a-4c0e-9a51-1d2f4b0c7e10"})
    texts = {}
    for service in ReferralService:
        row = {"id": "5a1c1f2e-5d0b-4c8e-9a51-1d2f4b0c7e11", "service": service.value,
               "status": "sent", "reason": "synthetic"}  # fmt: skip
        resource = mapping.service_request(person, row)
        assert problems(resource) == []
        (coding,) = resource["code"]["coding"]
        assert coding["display"] == service.label
        texts[service] = resource["code"]["text"]
    assert texts[ReferralService.GP] == "Referral to GP"
    assert texts[ReferralService.VCSE] == "Referral to VCSE (voluntary sector)"
    assert texts[ReferralService.DISTRICT_NURSING] == "Referral to district nursing"
    assert texts[ReferralService.OTHER] == "Referral to another service"
