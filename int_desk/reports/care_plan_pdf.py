"""Care-plan PDFs: the professional sharing copy and the plain-language patient/carer copy.

``render_care_plan(view, variant=..., printed_by=..., printed_at=..., today=...) -> bytes``
takes a ``PlanView`` snapshot (see ``int_desk.domain.care_plan``) and knows nothing of the store;
consent checks and auditing belong to ``int_desk.services.care_plan_export``.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from reportlab.platypus import Flowable, KeepTogether, Spacer

from int_desk.domain import information_needs
from int_desk.domain.care_plan import (
    ACHIEVEMENT_LABELS,
    ACTION_STATUS_LABELS,
    CONSENT_LABELS,
    GOAL_STATUS_LABELS,
    PlanView,
    Variant,
    is_due_for_review,
    review_state,
)
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.uk_time import london_date
from int_desk.domain.vocab import CarePlanStatus
from int_desk.reports import pdf_base as pdf

PROFESSIONAL_TITLE = "Personalised care and support plan"
CARER_TITLE = "My care and support plan"
CARER_NOTE = "Copy for the person and their carer. Internal clinical notes are not included."


_WATERMARKS = {
    CarePlanStatus.DRAFT.value: "DRAFT - NOT SIGNED OFF",
    CarePlanStatus.SUPERSEDED.value: "SUPERSEDED - DO NOT USE",
    CarePlanStatus.CLOSED.value: "CLOSED",
}
_STATUS_WORDS = {
    CarePlanStatus.DRAFT.value: "Draft",
    CarePlanStatus.ACTIVE.value: "Active",
    CarePlanStatus.SUPERSEDED.value: "Superseded",
    CarePlanStatus.CLOSED.value: "Closed",
}


def _status(view: PlanView, today: date) -> str:
    word = _STATUS_WORDS.get(view.status, view.status)
    if is_due_for_review(view.status, view.review_date, today):
        word += " (due for review)"
    return f"v{view.version} {word}"


def _review(view: PlanView, today: date) -> str:
    text = pdf.fmt_date(view.review_date)
    state = review_state(view.status, view.review_date, today)
    return f"{text} ({state})" if state else text


def furniture(
    view: PlanView,
    *,
    variant: Variant,
    printed_by: str,
    printed_at: datetime,
    today: date,
    large_print: bool = False,
) -> pdf.PageFurniture:
    carer = variant is Variant.CARER
    title = CARER_TITLE if carer else PROFESSIONAL_TITLE
    return pdf.PageFurniture(
        title=title,
        primary=view.patient.name,
        fields=(
            ("NHS number", format_nhs(view.patient.nhs_number)),
            ("Date of birth", pdf.fmt_date(view.patient.date_of_birth)),
            ("Plan", _status(view, today)),
            ("Review date", _review(view, today)),
        ),
        printed_by=printed_by,
        printed_at=printed_at,
        subject=f"{title} - {view.patient.name} - version {view.version}",
        author=view.lead.split(" (")[0] if view.lead else "INT Desk",
        footer_note=CARER_NOTE if carer else "",
        watermark=_WATERMARKS.get(view.status),
        keywords="care plan, INT Desk",
        large_print=large_print,
    )


def _carer_line(view: PlanView) -> str:
    p = view.patient
    if not p.carer_name:
        return ""
    parts = [p.carer_name]
    if p.carer_relationship:
        parts[0] += f" ({p.carer_relationship.lower()})"
    if p.carer_phone:
        parts.append(p.carer_phone)
    return ", ".join(parts)


def _signed(view: PlanView) -> str:
    if view.signed_off_at is None:
        return "Not signed off - this is a draft and must not be relied on."
    return f"{view.signed_off_by} on {pdf.fmt_datetime(view.signed_off_at)}"


def _if_things_change(
    view: PlanView, st: SimpleNamespace, title: str, *, empty: str, large: bool = False
) -> list[Flowable]:
    """The contingency plan and the team's phone, boxed so nobody misses it in a crisis."""
    body = [
        pdf.para(view.contingency_plan, st.body, empty=empty),
        pdf.para(_team_phone_line(view), st.body),
    ]
    return [Spacer(1, 4), pdf.callout(title, body, large=large)]


def _consent(view: PlanView) -> str:
    decision = CONSENT_LABELS.get(view.consent_decision or "", "Not recorded")
    details = []
    if view.consent_with:
        details.append(f"with {view.consent_with}")
    if view.consent_date:
        details.append(f"on {pdf.fmt_date(view.consent_date)}")
    if view.consent_recorded_by:
        details.append(f"recorded by {view.consent_recorded_by}")
    return decision + (" - " + ", ".join(details) if details else "")


def _last_changed(view: PlanView) -> str:
    when = pdf.fmt_datetime(view.updated_at, empty="-")
    return f"{when} by {view.updated_by}" if view.updated_by else when


def _goal_rows(view: PlanView, *, carer: bool) -> list[list[str]]:
    rows = []
    for g in view.goals:
        progress = ACHIEVEMENT_LABELS.get(g.achievement_status, g.achievement_status)
        status = GOAL_STATUS_LABELS.get(g.lifecycle_status, g.lifecycle_status)
        state = progress if g.lifecycle_status == "active" else status
        rows.append(
            [
                str(g.number),
                g.description,
                g.target_measure or ("-" if carer else "No measure set"),
                pdf.fmt_date(g.target_date, empty="-"),
                state,
            ]
        )
    return rows


def _action_rows(view: PlanView) -> list[list[str]]:
    return [
        [
            str(a.number),
            a.description,
            a.who or "-",
            a.when or "-",
            ACTION_STATUS_LABELS.get(a.status, a.status),
            str(a.goal_number) if a.goal_number else "-",
        ]
        for a in view.actions
    ]


def _team_phone_line(view: PlanView) -> str:
    """Where the plan says "call the INT", the number to call."""
    if view.patient.team_phone:
        return (
            f"Your care team's phone number: {view.patient.team_phone}. In an emergency call 999."
        )
    return (
        "No phone number is recorded for the care team: ask your lead professional for it. "
        "In an emergency call 999."
    )


def _override_callout(override: str, *, large: bool = False) -> list[Flowable]:
    """Shared without the person's consent: said on the first page, with who, when and why."""
    return [
        pdf.callout(
            "Shared without consent to share - clinical lead override",
            [pdf.para(override, large=large)],
            large=large,
            level=2,  # it comes before the first section: a level-3 heading would skip one
        ),
        Spacer(1, 4),
    ]


def _text_section(
    title: str, text: str, empty: str = "Not recorded.", *, large: bool = False
) -> list[Flowable]:
    return pdf.section(title, [pdf.para(text, empty=empty, large=large)], large=large)


def _professional_story(view: PlanView, today: date) -> list[Flowable]:
    st = pdf.styles()
    story: list[Flowable] = []
    key = [
        ("Named lead professional", view.lead or "Not recorded"),
        ("Care team", view.patient.team or "Not recorded"),
        ("Usual GP", view.patient.usual_gp or "Not recorded"),
        ("Unpaid carer", _carer_line(view) or "None recorded"),
        ("Communication needs", view.patient.communication_needs or "None recorded"),
        (
            "Information needs",
            information_needs.labels(view.patient.information_needs) or "None recorded",
        ),
        ("Address", view.patient.address or "Not recorded"),
        ("Signed off by", _signed(view)),
        ("Consent to share", _consent(view)),
        ("Review date", _review(view, today)),
        ("Last changed", _last_changed(view)),
    ]
    story += pdf.section("Key information", [pdf.key_value_table(key)])
    story += _if_things_change(
        view, st, "Contingency and crisis plan - what to do if things change",
        empty="No contingency plan recorded.",
    )  # fmt: skip
    story += _text_section("About me (in my own words)", view.about_me)
    story += _text_section("What matters to me", view.what_matters)
    if view.goals:
        goals = pdf.data_table(
            ["#", "Goal (in the person's own words)", "Measurable target", "By", "Progress"],
            _goal_rows(view, carer=False),
            [9, 60, 46, 20, 20],
        )
        story += pdf.section("Goals", [goals])
    else:
        story += _text_section("Goals", "", empty="No goals recorded.")
    if view.actions:
        actions = pdf.data_table(
            ["#", "Action", "Who", "When", "Status", "Goal"],
            _action_rows(view),
            [9, 56, 46, 24, 15, 11],
        )
        story += pdf.section("Actions", [actions])
    else:
        story += _text_section("Actions", "", empty="No actions recorded.")
    story += _text_section("Unpaid carer's involvement", view.carer_involvement)
    withheld = "Withheld: your role does not include clinical notes."
    story += _text_section(
        "Clinical summary",
        view.clinical_summary,
        empty=withheld if view.clinical_redacted else "Not recorded.",
    )
    story += _text_section(
        "Medicines notes",
        view.medicines_notes,
        empty=withheld if view.clinical_redacted else "None recorded.",
    )
    story += pdf.section("Consent to share", [pdf.para(_consent(view))])
    story += pdf.section(
        "Care team and contributors",
        [pdf.bullet_list(view.contributors) if view.contributors else pdf.para("Not recorded.")],
    )
    return story


def _carer_story(
    view: PlanView, today: date, *, include_medicines: bool, large: bool = False
) -> list[Flowable]:
    """The plain-language copy; ``large``: large print in a simple layout (labelled lines,
    one goal or action after another, instead of tables)."""
    st = pdf.styles(large)
    story: list[Flowable] = []
    contact = [
        ("My lead professional", view.lead or "Ask your GP practice"),
        ("My care team", view.patient.team or "-"),
        ("My GP", view.patient.usual_gp or "-"),
        ("My carer", _carer_line(view) or "-"),
        ("Next review", _review(view, today)),
    ]
    if large:
        who = [pdf.labelled(k, v, large=True) for k, v in contact]
    else:
        who = [pdf.key_value_table(contact)]
    story += pdf.section("Who to contact", who, large=large)
    story += _if_things_change(
        view, st, "What to do if things change", empty="Ask your lead professional.", large=large
    )
    story += _text_section("About me", view.about_me, large=large)
    story += _text_section("What matters to me", view.what_matters, large=large)
    if view.goals:
        goal_header = ["#", "What I want", "How we will know", "By", "How it is going"]
        goal_rows = _goal_rows(view, carer=True)
        if large:
            goals = _large_print_items("Goal", goal_header, goal_rows)
        else:
            goals = [pdf.data_table(goal_header, goal_rows, [9, 60, 46, 20, 22])]
        story += pdf.section("My goals", goals, large=large)
    if view.actions:
        action_header = ["#", "What will happen", "Who", "When", "Status", "Goal"]
        if large:
            actions = _large_print_items("Action", action_header, _action_rows(view))
        else:
            actions = [pdf.data_table(action_header, _action_rows(view), [9, 56, 46, 24, 15, 11])]
        story += pdf.section("Who will do what", actions, large=large)
    story += _text_section(
        "How my carer is involved", view.carer_involvement, empty="-", large=large
    )
    if include_medicines and view.medicines_notes:
        story += _text_section("About my medicines", view.medicines_notes, large=large)
    sharing = {
        "permit": "I agreed that this plan can be shared"
        + (f" with {view.consent_with}" if view.consent_with else "")
        + ".",
        "deny": "I asked for this plan not to be shared with other services.",
    }.get(view.consent_decision or "", "Not yet discussed.")
    story += pdf.section("Sharing my plan", [pdf.para(sharing, large=large)], large=large)
    signed = (
        f"This plan was agreed on {pdf.fmt_date(london_date(view.signed_off_at))}."
        if view.signed_off_at
        else "This plan is a draft and has not been agreed yet."
    )
    story += pdf.section("About this plan", [pdf.para(signed, large=large)], large=large)
    return story


def _large_print_items(kind: str, header: list[str], rows: list[list[str]]) -> list[Flowable]:
    """Large print: each goal or action under its own heading ('Goal 1'), its columns as
    labelled lines ('How we will know: Walks 200 m')."""
    st = pdf.styles(large=True)
    out: list[Flowable] = []
    for row in rows:
        lines = [
            pdf.labelled(label, value, large=True)
            for label, value in zip(header[1:], row[1:], strict=True)
        ]
        # One goal or action is read as a whole: never split over a page turn.
        out.append(KeepTogether([Spacer(1, 6), pdf.para(f"{kind} {row[0]}", st.h3), *lines]))
    return out


def render_care_plan(
    view: PlanView,
    *,
    variant: Variant = Variant.PROFESSIONAL,
    printed_by: str,
    printed_at: datetime,
    today: date,
    include_medicines: bool = False,
    consent_override: str = "",
    large_print: bool = False,
) -> bytes:
    """PDF bytes of one plan version. The carer copy omits the clinical summary, and the
    medicines notes unless ``include_medicines`` is set. ``consent_override`` (who, when and
    why a clinical lead shared it without consent) is printed first when given.
    ``large_print`` (carer copy only): at least 16 pt throughout, in a simple one-column
    layout."""
    if large_print and variant is not Variant.CARER:
        raise ValueError("Large print is a format of the patient/carer copy.")
    f = furniture(
        view,
        variant=variant,
        printed_by=printed_by,
        printed_at=printed_at,
        today=today,
        large_print=large_print,
    )
    story = _override_callout(consent_override, large=large_print) if consent_override else []
    if variant is Variant.CARER:
        story += _carer_story(view, today, include_medicines=include_medicines, large=large_print)
    else:
        story += _professional_story(view, today)
    return pdf.render(story, f)
