"""GP notifications: the person's registered practice is told when the INT acts on an episode.

    on_huddle_outcome(session, actor, item=..., huddle=...)       # services/huddles/run.py
    on_escalation_resolved(session, actor, escalation)            # services/patient_actions.py
    on_cohort_discharge(session, actor, membership)               # services/patient_actions.py
    on_plan_signed_off(session, actor, plan)                      # services/care_plans.py
    sent_to_gp(session=s, actor=a, patient_id=p)                  # what was sent, and read when

Each queues one ``GpNotification`` in the acting service's own transaction (so it exists exactly
when the action does) and syncs like any row; the endpoint serves it to the practice as a FHIR
Communication addressed to the practice's ODS code and records when the practice read it.

A person with no registered practice (or one without an ODS code) still gets a row, with no
recipient, so the team sees that the GP was not told. When the person declined consent to share
their care plan, the notification says what kind of action happened but withholds the detail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound
from int_desk.domain.gp_notification import Trigger
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import in_london
from int_desk.domain.vocab import AuditAction, CarePlanStatus, OrganisationKind
from int_desk.services import access
from int_desk.services.active_plan import active_plan
from int_desk.services.writes import record_write
from int_desk.store.models import (
    CarePlan,
    Cohort,
    CohortMembership,
    Escalation,
    GpNotification,
    Huddle,
    HuddleItem,
    Member,
    Organisation,
    Patient,
    Team,
)

WITHHELD = (
    "Details withheld: the person declined consent to share their care plan. "
    "Contact the team for more."
)
MAX_TEXT = 4000


def _day(value: datetime | None) -> str:
    return f"{value:%d %b %Y}" if value else ""


def _consent_declined(session: Session, patient_id: uuid.UUID) -> bool:
    plan = active_plan(session, patient_id)
    return plan is not None and plan.consent_decision == "deny"


def _sending_team(session: Session, actor: Actor, patient_id: uuid.UUID) -> uuid.UUID | None:
    teams = session.scalars(
        select(Cohort.team_id)
        .join(CohortMembership, CohortMembership.cohort_id == Cohort.id)
        .where(CohortMembership.patient_id == patient_id, CohortMembership.deleted.is_(False))
    ).all()
    mine = [t for t in teams if t in actor.team_ids]
    return (mine or list(teams) or [None])[0]


def queue(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID,
    trigger: Trigger,
    subject: str,
    text: str,
    source_entity: str,
    source_id: uuid.UUID | None,
    team_id: uuid.UUID | None = None,
) -> GpNotification:
    """Queue a notification for the person's registered practice (in the caller's transaction).

    The same action recorded twice with the same text queues once.
    """
    patient = session.get(Patient, patient_id)
    assert patient is not None
    if _consent_declined(session, patient_id):
        text = WITHHELD
    text = text.strip()[:MAX_TEXT]
    existing = session.scalar(
        select(GpNotification).where(
            GpNotification.patient_id == patient_id,
            GpNotification.trigger == trigger.value,
            GpNotification.source_id == source_id,
            GpNotification.text == text,
            GpNotification.deleted.is_(False),
        )
    )
    if existing is not None:
        return existing
    practice = session.get(Organisation, patient.practice_id) if patient.practice_id else None
    ods = ""
    if practice is not None and practice.kind == OrganisationKind.GP_PRACTICE.value:
        ods = practice.code or ""
    row = GpNotification(
        patient_id=patient_id,
        team_id=team_id or _sending_team(session, actor, patient_id),
        practice_id=practice.id if practice else None,
        recipient_ods=ods,
        trigger=trigger.value,
        source_entity=source_entity,
        source_id=source_id,
        subject=subject[:200],
        text=text,
    )
    record_write(
        session,
        actor,
        row,
        AuditAction.CREATE,
        "gp_notification",
        patient_id=patient_id,
        detail=f"trigger={trigger.value} source={source_entity}:{source_id} "
        f"recipient={'ods' if ods else 'none'}",
    )
    return row


def _member_name(session: Session, member_id: uuid.UUID | None) -> str:
    member = session.get(Member, member_id) if member_id else None
    return member.name if member else "a team member"


def _team_name(session: Session, team_id: uuid.UUID | None) -> str:
    team = session.get(Team, team_id) if team_id else None
    return team.name if team else "the INT"


def _written(*fields: tuple[str, str]) -> list[str]:
    """A "label: text" line for each field that has text (blank ones left out)."""
    return [f"{label}: {text.strip()}" for label, text in fields if text.strip()]


def on_huddle_outcome(
    session: Session, actor: Actor, *, item: HuddleItem, huddle: Huddle
) -> GpNotification:
    team = _team_name(session, huddle.team_id)
    lines = [f"Discussed at the {team} huddle on {_day(huddle.started_at or huddle.scheduled_at)}."]
    lines += _written(("Outcome", item.outcome), ("Decisions", item.decisions))
    return queue(
        session, actor, patient_id=item.patient_id, trigger=Trigger.HUDDLE_OUTCOME,
        subject=f"{team}: discussed at the huddle", text="\n".join(lines),
        source_entity="huddle_item", source_id=item.id, team_id=huddle.team_id,
    )  # fmt: skip


def on_escalation_resolved(
    session: Session, actor: Actor, escalation: Escalation
) -> GpNotification:
    text = (
        f"Escalated on {_day(escalation.raised_at)}; resolved on {_day(escalation.resolved_at)} "
        f"by {_member_name(session, escalation.resolved_by)}.\n"
        f"Resolution: {escalation.resolution.strip()}"
    )
    return queue(
        session, actor, patient_id=escalation.patient_id, trigger=Trigger.ESCALATION_RESOLVED,
        subject="INT escalation resolved", text=text,
        source_entity="escalation", source_id=escalation.id,
    )  # fmt: skip


def on_cohort_discharge(
    session: Session, actor: Actor, membership: CohortMembership
) -> GpNotification:
    cohort = session.get(Cohort, membership.cohort_id)
    name = cohort.name if cohort else "INT"
    text = (
        f"Discharged from the {name} cohort on {membership.discharged_on:%d %b %Y}.\n"
        f"Reason: {(membership.discharge_reason or '').strip()}"
    )
    return queue(
        session, actor, patient_id=membership.patient_id, trigger=Trigger.COHORT_DISCHARGE,
        subject=f"Discharged from the INT {name} cohort", text=text,
        source_entity="cohort_membership", source_id=membership.id,
        team_id=cohort.team_id if cohort else None,
    )  # fmt: skip


def on_plan_signed_off(session: Session, actor: Actor, plan: CarePlan) -> GpNotification:
    parts = [
        f"Personalised care and support plan version {plan.version} signed off on "
        f"{_day(plan.signed_off_at)} by {_member_name(session, plan.signed_off_by)}."
    ]
    if plan.lead_member_id:
        parts.append(f"Named lead professional: {_member_name(session, plan.lead_member_id)}.")
    if plan.review_date:
        parts.append(f"Review due {plan.review_date:%d %b %Y}.")
    parts += _written(
        ("What matters to the person", plan.what_matters),
        ("Contingency / crisis plan", plan.contingency_plan),
    )
    return queue(
        session, actor, patient_id=plan.patient_id, trigger=Trigger.PLAN_SIGNED_OFF,
        subject=f"INT care plan signed off (version {plan.version})", text="\n".join(parts),
        source_entity="care_plan", source_id=plan.id,
    )  # fmt: skip


# --- what the team sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class SentNotice:
    id: uuid.UUID
    trigger: str
    subject: str
    text: str  # blank for roles without view_clinical
    queued_at: datetime
    recipient_ods: str
    read_at: datetime | None
    read_by: str

    @property
    def state(self) -> str:
        if not self.recipient_ods:
            return "Not sent: no registered practice with an ODS code"
        if self.read_at is not None:
            return f"Read by the practice {in_london(self.read_at):%d %b %Y %H:%M}"
        return "Sent; not yet read"


def sent_to_gp(*, session: Session, actor: Actor, patient_id: uuid.UUID) -> list[SentNotice]:
    """Every notification queued for this person, newest first, with when it was read."""
    access.get_patient(session, actor, patient_id)
    clinical = access.can(session, actor, Permission.VIEW_CLINICAL)
    rows = session.scalars(
        select(GpNotification)
        .where(GpNotification.patient_id == patient_id, GpNotification.deleted.is_(False))
        .order_by(GpNotification.queued_at.desc())
    )
    return [
        SentNotice(
            r.id,
            r.trigger,
            r.subject,
            r.text if clinical else "",
            r.queued_at,
            r.recipient_ods,
            r.read_at,
            r.read_by or "",
        )  # fmt: skip
        for r in rows
    ]


def gp_summary_pdf(
    *, session: Session, actor: Actor, notification_id: uuid.UUID, now: datetime | None = None
) -> bytes:
    """The one-page GP summary for a notification (the same page the endpoint serves the
    practice), e.g. to send by other means where a practice has no token yet."""
    from datetime import UTC

    from int_desk.reports.gp_summary_pdf import render_gp_summary
    from int_desk.services import fhir_export
    from int_desk.wire import schema

    row = session.get(GpNotification, notification_id)
    if row is None or row.deleted:
        raise NotFound("That notification is not in this workspace.")
    access.get_patient(session, actor, row.patient_id)
    access.require(session, actor, Permission.EXPORT_PLAN, patient_id=row.patient_id)
    clinical = access.can(session, actor, Permission.VIEW_CLINICAL)
    person = next(fhir_export.person_data(session, [row.patient_id], clinical=clinical))
    notice = schema.row_to_wire(schema.ENTITIES["gp_notification"], row)
    if not clinical:
        notice["text"] = ""
    access.record_export(
        session, actor, entity_type="gp_notification", entity_id=row.id,
        patient_id=row.patient_id, detail="gp-summary pdf",
    )  # fmt: skip
    return render_gp_summary(
        person, notice, team=_team_name(session, row.team_id),
        printed_by=f"{actor.name or 'Team member'} ({actor.role.label})",
        printed_at=now or datetime.now(UTC),
    )  # fmt: skip


def add_demo_notifications(session: Session, *, seed: int, share: float = 0.25) -> int:
    """Demo data: sign-off notifications for a share of the active plans, most of them read.

    Runs after the demo is written, on its own random generator, so the rest of the demo is
    unchanged by it. Returns how many were added.
    """
    import random
    from datetime import timedelta

    rng = random.Random(seed * 7919 + 15)
    found = session.execute(
        select(CarePlan, Patient.practice_id, Organisation.code, Cohort.team_id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .join(Organisation, Organisation.id == Patient.practice_id)
        .join(CohortMembership, CohortMembership.patient_id == Patient.id)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(CarePlan.status == CarePlanStatus.ACTIVE.value, CarePlan.signed_off_at.is_not(None))
        .order_by(CarePlan.id)
    ).all()
    seen: set[uuid.UUID] = set()
    rows: list[dict[str, object]] = []
    for plan, practice_id, ods, team_id in found:
        if plan.id in seen or rng.random() >= share:
            continue
        seen.add(plan.id)
        read = rng.random() < 0.6
        text = WITHHELD if plan.consent_decision == "deny" else (
            f"Personalised care and support plan version {plan.version} signed off.\n"
            f"What matters to the person: {plan.what_matters}\n"
            f"Contingency / crisis plan: {plan.contingency_plan}"
        )  # fmt: skip
        rows.append(
            dict(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                patient_id=plan.patient_id, team_id=team_id, practice_id=practice_id,
                recipient_ods=ods or "", trigger=Trigger.PLAN_SIGNED_OFF.value,
                source_entity="care_plan", source_id=plan.id,
                subject=f"INT care plan signed off (version {plan.version})", text=text,
                queued_at=plan.signed_off_at, created_at=plan.signed_off_at,
                updated_at=plan.signed_off_at, created_by=plan.signed_off_by, updated_by=None,
                read_at=plan.signed_off_at + timedelta(days=1) if read else None,
                read_by=f"Practice system ({ods})" if read else None,
                server_version=None, deleted=False,
            )
        )  # fmt: skip
    if rows:  # as the rest of the demo is written: straight in, nothing queued to sync
        session.execute(insert(GpNotification.__table__), rows)
    return len(rows)
