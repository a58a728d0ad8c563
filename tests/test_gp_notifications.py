"""GP notifications: queued when the INT acts, read by the practice's own token as FHIR
Communications (with a one-page GP summary PDF), and the team sees when they were read."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import httpx
from pypdf import PdfReader
from sqlalchemy import select

from int_desk.domain.gp_notification import Trigger
from int_desk.domain.vocab import Role
from int_desk.server import access as server_access
from int_desk.server import practice_admin
from int_desk.server.models import ServerAuditEvent, ServerUser
from int_desk.services import care_plans as cp
from int_desk.services import gp_notify
from int_desk.services import patient_actions as actions
from int_desk.services.identity import actor_for, current_actor
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.helpers.care_plan_data import actor_with_role, make_signed_plan, patient_without_plan
from tests.helpers.fhir_checks import problems
from tests.helpers.sync_env import Endpoint, sync

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _membership(s, actor) -> m.CohortMembership:  # noqa: ANN001
    return s.scalars(
        select(m.CohortMembership)
        .join(m.Cohort, m.Cohort.id == m.CohortMembership.cohort_id)
        .join(m.Patient, m.Patient.id == m.CohortMembership.patient_id)
        .where(
            m.Cohort.team_id.in_(actor.team_ids),
            m.CohortMembership.discharged_on.is_(None),
            m.Patient.practice_id.is_not(None),
        )
        .order_by(m.CohortMembership.id)
    ).first()


def test_each_action_queues_a_notification_for_the_registered_practice(
    demo_ws: Workspace,
) -> None:
    with demo_ws.session() as s:
        coordinator = current_actor(s)
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        membership = _membership(s, coordinator)
        pid = membership.patient_id
        practice = s.get(m.Organisation, s.get(m.Patient, pid).practice_id)
        actions.discharge_from_cohort(
            session=s, actor=coordinator, membership_id=membership.id, reason="Goals met; stable"
        )
        escalation = actions.escalate(
            session=s, actor=coordinator, patient_id=pid, reason="Falls twice this week"
        )
        actions.resolve_escalation(
            session=s, actor=lead, escalation_id=escalation.id, resolution="Falls clinic booked"
        )
        sent = gp_notify.sent_to_gp(session=s, actor=coordinator, patient_id=pid)
    sent = [n for n in sent if n.trigger != Trigger.PLAN_SIGNED_OFF.value]  # the demo's own
    assert [n.trigger for n in sent] == [
        Trigger.ESCALATION_RESOLVED.value, Trigger.COHORT_DISCHARGE.value
    ]  # fmt: skip
    assert {n.recipient_ods for n in sent} == {practice.code}
    assert "Falls clinic booked" in sent[0].text and "Goals met; stable" in sent[1].text
    assert all(n.state == "Sent; not yet read" for n in sent)


def test_sign_off_notifies_and_withholds_detail_without_consent(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        plan = make_signed_plan(s, lead, patient, goals=1, actions=1)
        [notice] = gp_notify.sent_to_gp(session=s, actor=lead, patient_id=patient.id)
        assert notice.trigger == Trigger.PLAN_SIGNED_OFF.value
        assert f"version {plan.version}" in notice.subject
        first_pdf = gp_notify.gp_summary_pdf(session=s, actor=lead, notification_id=notice.id)
        # The same person declines consent on the next version: its sign-off says so only.
        draft = cp.new_draft(session=s, actor=lead, plan_id=plan.id)
        cp.update_plan(
            session=s, actor=lead, plan_id=draft.id, changes={"consent_decision": "deny"}
        )
        cp.sign_off(session=s, actor=lead, plan_id=draft.id)
        latest = gp_notify.sent_to_gp(session=s, actor=lead, patient_id=patient.id)[0]
        later_pdf = gp_notify.gp_summary_pdf(session=s, actor=lead, notification_id=latest.id)
    assert latest.text == gp_notify.WITHHELD
    shared = PdfReader(io.BytesIO(first_pdf)).pages[0].extract_text()
    withheld = PdfReader(io.BytesIO(later_pdf)).pages[0].extract_text()
    assert plan.contingency_plan[:30] not in withheld and "declined consent" in withheld
    assert plan.contingency_plan[:30] in shared and "Goals" in shared


def test_no_registered_practice_is_shown_as_not_sent(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        coordinator = current_actor(s)
        membership = _membership(s, coordinator)
        s.get(m.Patient, membership.patient_id).practice_id = None
        actions.discharge_from_cohort(
            session=s, actor=coordinator, membership_id=membership.id, reason="Moved away"
        )
        sent = gp_notify.sent_to_gp(session=s, actor=coordinator, patient_id=membership.patient_id)
    [notice] = [n for n in sent if n.trigger == Trigger.COHORT_DISCHARGE.value]
    assert notice.recipient_ods == "" and notice.state.startswith("Not sent")


def test_practice_reads_its_notifications_and_the_team_sees_when(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    laptop = laptops(ep, "a")
    assert sync(laptop).ok
    with ep.session() as srv:
        member_a = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == "a"))
    with laptop.session() as s:
        actor = actor_for(s, member_a)
        membership = _membership(s, actor)
        pid = membership.patient_id
        patient = s.get(m.Patient, pid)
        nhs, ods = patient.nhs_number, s.get(m.Organisation, patient.practice_id).code
        actions.discharge_from_cohort(
            session=s, actor=actor, membership_id=membership.id, reason="Goals met; stable"
        )
    pushed_after = datetime.now(UTC).isoformat(timespec="seconds")  # the endpoint's clock too
    assert sync(laptop).ok
    with ep.session() as srv:
        _id, token = practice_admin.issue(srv, ods, "Park Surgery EMIS")
        _id2, other_token = practice_admin.issue(srv, "Y99999" if ods != "Y99999" else "Y99998")
    base = f"{ep.url}/fhir/R4"
    auth = {"Authorization": f"Bearer {token}"}

    # The demo's earlier notifications to this practice arrived before: polling from the time
    # of the push finds exactly the new one.
    r = httpx.get(
        f"{base}/Communication",
        params={"recipient": f"{ODS}|{ods}", "_lastUpdated": f"gt{pushed_after}"},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    bundle = r.json()
    [entry] = bundle["entry"]
    comm = entry["resource"]
    assert problems(bundle) == [] and problems(comm) == []
    assert comm["subject"]["identifier"] == {"system": NHS, "value": nhs}
    assert comm["recipient"][0]["identifier"] == {"system": ODS, "value": ods}
    assert "Goals met; stable" in comm["payload"][0]["contentString"]
    assert comm["received"]  # fetched = read
    # Polling from now on finds nothing new; reading did not make it "new" again.
    later = httpx.get(
        f"{base}/Communication?_lastUpdated=gt{comm['meta']['lastUpdated']}", headers=auth
    )
    assert later.json()["total"] == 0

    pdf = httpx.get(comm["payload"][1]["contentAttachment"]["url"], headers=auth)
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = reader.pages[0].extract_text()
    assert len(reader.pages) == 1 and "GP summary" in text and f"{nhs[:3]} {nhs[3:6]}" in text

    # Another practice sees none of it; a practice token reads nothing else.
    other = {"Authorization": f"Bearer {other_token}"}
    assert httpx.get(f"{base}/Communication", headers=other).json()["total"] == 0
    assert (
        httpx.get(f"{base}/Communication?recipient={ODS}|{ods}", headers=other).status_code == 403
    )
    assert httpx.get(pdf.url, headers=other).status_code == 404
    assert httpx.get(f"{base}/Patient?identifier={NHS}|{nhs}", headers=auth).status_code == 403
    staff = {"Authorization": f"Bearer {ep.tokens['a']}"}
    assert httpx.get(f"{base}/Communication", headers=staff).status_code == 403
    # A practice's login is nobody to sync: refused, saying what the token is for.
    refused = httpx.get(f"{ep.url}/v1/verify", headers={**auth, "X-IntDesk-Protocol": "1"})
    assert refused.status_code == 403 and "GP practice" in refused.json()["detail"]

    with ep.session() as srv:
        reads = srv.scalars(
            select(ServerAuditEvent).where(ServerAuditEvent.resource_type == "Communication")
        ).all()
        # one entry per person read; empty searches and refusals are entries without a person
        assert {str(e.patient_id) for e in reads if e.patient_id} == {str(pid)}
        assert {e.outcome for e in reads} == {200, 403}

    assert sync(laptop).ok  # the team's laptop learns that the practice read it
    with laptop.session() as s:
        sent = gp_notify.sent_to_gp(session=s, actor=actor_for(s, member_a), patient_id=pid)
    notice = next(n for n in sent if n.trigger == Trigger.COHORT_DISCHARGE.value)
    assert notice.read_at is not None and "Park Surgery EMIS" in notice.read_by
    assert notice.state.startswith("Read by the practice")


def test_endpoint_refuses_forged_notifications(sqlite_endpoint: Endpoint) -> None:
    """A laptop may not mark a notification read, nor notify for an action its role may not
    take (a district nurse cannot sign off a plan)."""
    ep = sqlite_endpoint
    with ep.session() as srv:
        nurse = srv.scalars(select(ServerUser).where(ServerUser.name == "b")).one()
        teams = (ep.teams["Bicester INT"],)
        fields = {"trigger": Trigger.PLAN_SIGNED_OFF.value, "subject": "x", "text": "y",
                  "patient_id": str(uuid.uuid4())}  # fmt: skip
        reason = server_access.write_denied(
            srv, user_id=nurse.id, teams=teams, entity="gp_notification",
            record_id=uuid.uuid4(), fields=fields,
        )  # fmt: skip
        assert reason.startswith("forbidden: the role 'District nurse' may not sign off")
        fields["trigger"] = Trigger.COHORT_DISCHARGE.value
        fields["read_at"] = "2026-12-06T10:00:00.000000+00:00"
        reason = server_access.write_denied(
            srv, user_id=nurse.id, teams=teams, entity="gp_notification",
            record_id=uuid.uuid4(), fields=fields,
        )  # fmt: skip
        assert reason.startswith("refused: gp_notification.read_at")
