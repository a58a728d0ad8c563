"""Huddle agenda and minutes PDFs: build the documents from the store and write them atomically.

Each export is audited (EXECUTE, ids and counts only).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import ValidationError
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import in_london, london_hhmm
from int_desk.domain.vocab import AuditAction, HuddleStatus
from int_desk.reports import huddle_pdf
from int_desk.reports import pdf_base as pdf
from int_desk.services import access
from int_desk.services import huddles as h
from int_desk.store import audit
from int_desk.store.base import utcnow
from int_desk.store.models import Team

_STATUS = {"discussed": "discussed", "deferred": "deferred", "pending": "not reached"}


def _printed_by(actor: Actor) -> str:
    return f"{actor.name or 'team member'} ({actor.role.label})"


def _attendees(view: h.HuddleView) -> list[str]:
    return [
        f"{n} ({role}{', visiting' if visiting else ''})"
        for _i, n, role, visiting in view.attendees
    ]


def _heading(view: h.HuddleView) -> huddle_pdf.HuddleHeading:
    return huddle_pdf.HuddleHeading(
        team=view.team,
        when=in_london(view.scheduled_at),
        kind=view.kind,
        chair=view.chair,
        attendees=_attendees(view),
    )


def agenda_doc(view: h.HuddleView) -> huddle_pdf.AgendaDoc:
    return huddle_pdf.AgendaDoc(
        heading=_heading(view),
        items=[
            huddle_pdf.AgendaLine(
                i.name,
                format_nhs(i.nhs_number),
                i.priority,
                i.reasons,
                born=f"{i.date_of_birth:%d %b %Y}" if i.date_of_birth else "",
            )
            for i in view.items
        ],
        minutes_per_item=view.minutes_per_item,
        status=view.status,
    )


def computed_agenda_doc(
    agenda: h.Agenda, team: str, when: datetime, kind: str = ""
) -> huddle_pdf.AgendaDoc:
    return huddle_pdf.AgendaDoc(
        heading=huddle_pdf.HuddleHeading(team=team, when=when, kind=kind, chair="", attendees=()),
        items=[
            huddle_pdf.AgendaLine(c.name, format_nhs(c.nhs_number), c.priority, c.reason_texts)
            for c in agenda.items
        ],
        minutes_per_item=agenda.config.minutes_per_item,
        overflow=agenda.overflow,
    )


def minutes_doc(view: h.HuddleView) -> huddle_pdf.MinutesDoc:
    total = sum(i.seconds_spent for i in view.items)
    return huddle_pdf.MinutesDoc(
        heading=_heading(view),
        started=london_hhmm(view.started_at),
        closed=london_hhmm(view.closed_at),
        total_time=h.fmt_duration(total),
        items=[
            huddle_pdf.MinutesLine(
                name=i.name,
                nhs_number=format_nhs(i.nhs_number),
                status=_STATUS.get(i.status, i.status),
                duration=h.fmt_duration(i.seconds_spent) if i.seconds_spent else "",
                reasons=i.reasons,
                outcome=i.outcome,
                decisions=i.decisions,
                actions=[h.action_text(a) for a in i.actions],
            )
            for i in view.items
        ],
    )


def _audit(session: Session, actor: Actor, entity_id: uuid.UUID | None, detail: str) -> None:
    audit.record_by(session, actor, AuditAction.EXECUTE, "huddle", entity_id, detail=detail)


def agenda_pdf_bytes(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> bytes:
    access.require(session, actor, Permission.VIEW_CASELOAD)
    view = h.huddle_view(session=session, actor=actor, huddle_id=huddle_id)
    data = huddle_pdf.agenda_pdf(
        agenda_doc(view), printed_by=_printed_by(actor), printed_at=utcnow()
    )
    _audit(session, actor, view.id, f"export=agenda_pdf items={len(view.items)}")
    return data


def minutes_pdf_bytes(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> bytes:
    access.require(session, actor, Permission.VIEW_CASELOAD)
    view = h.huddle_view(session=session, actor=actor, huddle_id=huddle_id)
    if view.status != HuddleStatus.CLOSED.value:
        raise ValidationError("Minutes are available once the huddle is closed.", field="status")
    data = huddle_pdf.minutes_pdf(
        minutes_doc(view), printed_by=_printed_by(actor), printed_at=utcnow()
    )
    _audit(session, actor, view.id, f"export=minutes_pdf items={len(view.items)}")
    return data


def export_agenda(*, session: Session, actor: Actor, huddle_id: uuid.UUID, path: Path) -> Path:
    return pdf.write_atomic(
        Path(path), agenda_pdf_bytes(session=session, actor=actor, huddle_id=huddle_id)
    )


def export_minutes(*, session: Session, actor: Actor, huddle_id: uuid.UUID, path: Path) -> Path:
    return pdf.write_atomic(
        Path(path), minutes_pdf_bytes(session=session, actor=actor, huddle_id=huddle_id)
    )


def export_computed_agenda(
    *, session: Session, actor: Actor, team_id: uuid.UUID, on: date, path: Path | None
) -> tuple[h.Agenda, Path | None]:
    """The agenda the rules give for a date (no huddle needed), optionally as a PDF."""
    agenda = h.compute_agenda(session=session, actor=actor, team_id=team_id, on=on)
    if path is None:
        return agenda, None
    team = session.get(Team, team_id)
    assert team is not None
    when = h.local_datetime(on)
    data = huddle_pdf.agenda_pdf(
        computed_agenda_doc(agenda, team.name, when, team.huddle_kind),
        printed_by=_printed_by(actor),
        printed_at=utcnow(),
    )
    _audit(session, actor, None, f"export=agenda_pdf team={team_id} items={len(agenda.items)}")
    return agenda, pdf.write_atomic(Path(path), data)
