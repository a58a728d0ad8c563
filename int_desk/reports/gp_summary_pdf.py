"""The one-page GP summary that goes with a GP notification (shared PDF layer).

Plain data in (``int_desk.fhir.mapping.PersonData`` and the notification's wire row, which the
workspace and the endpoint both have), PDF bytes out. Long texts and lists are cut so the
summary stays one page; the full plan is the care-plan PDF.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from reportlab.platypus import Flowable

from int_desk.domain.gp_notification import TRIGGER_LABELS, Trigger
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.uk_time import london_date
from int_desk.domain.vocab import FlagCode
from int_desk.fhir.mapping import PersonData
from int_desk.reports import pdf_base as pdf

MAX_CHARS = 600
MAX_ITEMS = 4


def _cut(text: Any, limit: int = MAX_CHARS) -> str:
    value = " ".join(str(text or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _date(value: Any) -> str:
    if not value:
        return "not set"
    try:
        text = str(value)
        if len(text) > 10:  # an instant: the day it was in London, not in UTC
            return pdf.fmt_date(london_date(datetime.fromisoformat(text)))
        return pdf.fmt_date(date.fromisoformat(text))
    except ValueError:
        return "not set"


def _flag_label(code: str) -> str:
    try:
        return FlagCode(code).label
    except ValueError:
        return code


def render_gp_summary(
    person: PersonData,
    notice: dict[str, Any],
    *,
    team: str,
    printed_by: str,
    printed_at: datetime,
) -> bytes:
    st = pdf.styles()
    p = person.patient
    name = f"{p.get('given_name', '')} {str(p.get('family_name', '')).upper()}".strip()
    try:
        trigger = TRIGGER_LABELS[Trigger(notice.get("trigger", ""))]
    except ValueError:
        trigger = str(notice.get("trigger", ""))
    furniture = pdf.PageFurniture(
        title="GP summary from the INT",
        primary=name,
        fields=(
            ("NHS number", format_nhs(p.get("nhs_number", ""))),
            ("Born", _date(p.get("date_of_birth"))),
            ("INT", team or "not set"),
        ),
        printed_by=printed_by,
        printed_at=printed_at,
        subject=f"GP summary: {trigger}",
    )
    story: list[Flowable] = []
    story += pdf.section(
        str(notice.get("subject") or trigger),
        [
            pdf.para(f"{trigger}, {_date(notice.get('queued_at'))}.", st.muted),
            *[pdf.para(_cut(line)) for line in str(notice.get("text") or "").splitlines()[:6]],
        ],
    )
    lead = person.members.get(person.lead_member_id or "", {}).get("name", "not named")
    rows: list[tuple[str, str]] = [("Named lead professional", lead)]
    plan = person.plan
    declined = bool(plan and plan.get("consent_decision") == "deny")
    if declined:  # the plan's content is not shared, here as anywhere
        rows.append(("Care plan", "the person declined consent to share it; ask the team"))
        plan = None
    elif plan:
        rows += [
            ("Care plan", f"version {plan.get('version') or 1}, signed off "
                          f"{_date(plan.get('signed_off_at'))}, review {_date(plan.get('review_date'))}"),
            ("What matters to the person", _cut(plan.get("what_matters"), 300) or "not recorded"),
            ("Contingency / crisis plan", _cut(plan.get("contingency_plan"), 400) or "not recorded"),
        ]  # fmt: skip
    elif not declined:
        rows.append(("Care plan", "no signed-off plan"))
    flags = [_flag_label(f.get("code", "")) for f in person.flags if f.get("active", True)]
    if flags:
        rows.append(("Flags", ", ".join(flags)))
    story += pdf.section("The person's INT care", [pdf.key_value_table(rows)])
    shared = plan is not None
    goals = [
        _cut(g.get("description"), 160) for g in person.goals if shared and not g.get("deleted")
    ]
    if goals:
        story += pdf.section("Goals", [pdf.bullet_list(goals[:MAX_ITEMS])])
    actions = [
        _cut(
            f"{a.get('description')} ({a.get('when')})" if a.get("when") else a.get("description"),
            160,
        )
        for a in person.actions
        if shared and a.get("status") not in ("completed", "cancelled")
    ]
    if actions:
        story += pdf.section("Agreed actions", [pdf.bullet_list(actions[:MAX_ITEMS])])
    story.append(
        pdf.para(
            "From the Integrated Neighbourhood Team's shared care record. "
            "The full personalised care and support plan is available from the team.",
            st.muted,
        )
    )
    return pdf.render(story, furniture)
