"""Huddle agenda (before) and minutes (after) as A4 PDFs on the shared PDF layer.

Plain data in (the dataclasses below, filled by ``services.huddle_export``), PDF bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, KeepTogether, Spacer

from int_desk.domain.uk_time import in_london
from int_desk.reports import pdf_base as pdf


@dataclass(frozen=True)
class AgendaLine:
    name: str
    nhs_number: str  # formatted
    priority: str
    reasons: Sequence[str]
    born: str = ""  # "15 Apr 1944": printed with the name, so no one is in doubt


@dataclass(frozen=True)
class HuddleHeading:
    """Which huddle: what its agenda and its minutes both open with."""

    team: str
    when: datetime  # local
    kind: str
    chair: str
    attendees: Sequence[str]


@dataclass(frozen=True)
class AgendaDoc:
    heading: HuddleHeading
    items: Sequence[AgendaLine]
    minutes_per_item: int = 2
    overflow: int | None = None
    status: str = "planned"


@dataclass(frozen=True)
class MinutesLine:
    name: str
    nhs_number: str
    status: str  # discussed | deferred | not reached
    duration: str
    reasons: Sequence[str]
    outcome: str
    decisions: str
    actions: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class MinutesDoc:
    heading: HuddleHeading
    started: str
    closed: str
    total_time: str
    items: Sequence[MinutesLine]


def _when(d: datetime) -> str:
    d = in_london(d)
    return f"{d:%a} {d.day} {d:%b %Y}, {d:%H:%M}"


def _furniture(
    top: HuddleHeading, what: str, chair: str, last: tuple[str, str], printed_by: str, at: datetime
) -> pdf.PageFurniture:
    """The page furniture of the huddle's ``what`` ("agenda", "minutes"): the huddle, its chair
    (or ``chair`` when none) and the ``last`` field."""
    return pdf.PageFurniture(
        title=f"Huddle {what}",
        primary=top.team,
        fields=(
            ("Huddle", f"{top.kind.capitalize() or 'Huddle'}, {_when(top.when)}"),
            ("Chair", top.chair or chair),
            last,
        ),
        printed_by=printed_by,
        printed_at=at,
        subject=f"{top.team} huddle {what}",
    )


def agenda_pdf(doc: AgendaDoc, *, printed_by: str, printed_at: datetime) -> bytes:
    st = pdf.styles()
    people = ("People", str(len(doc.items)))
    furniture = _furniture(doc.heading, "agenda", "not set", people, printed_by, printed_at)
    planned = len(doc.items) * doc.minutes_per_item
    story: list[Flowable] = [
        pdf.para(
            f"{len(doc.items)} people, about {planned} minutes at {doc.minutes_per_item} "
            "minutes each. Each person is listed with the reasons the team's agenda rules "
            "brought them here.",
            st.muted,
        ),
    ]
    if doc.overflow:
        story.append(
            pdf.para(
                f"{doc.overflow:,} more people met an agenda rule but did not fit; they stay "
                "on the caseload and are reconsidered at the next huddle.",
                st.muted,
            )
        )
    if doc.heading.attendees:
        story += pdf.section("Attendees", [pdf.bullet_list(doc.heading.attendees)])
    rows = [
        [
            str(n),
            f"{it.name}\n" + (f"born {it.born}\n" if it.born else "") + it.nhs_number,
            it.priority.capitalize(),
            list(it.reasons),
        ]
        for n, it in enumerate(doc.items, 1)
    ]
    # A heading kept with a long table would push the whole table to the next page; the table
    # repeats its header row instead.
    heading = ParagraphStyle("h2_free", parent=st.h2, keepWithNext=0)
    story.append(pdf.para("People to discuss", heading))
    story.append(
        pdf.data_table(["#", "Person", "Priority", "Why on the agenda"], rows, [9, 42, 16, 96])
        if rows
        else pdf.para("", empty="No one met the team's agenda rules.")
    )
    return pdf.render(story, furniture)


def minutes_pdf(doc: MinutesDoc, *, printed_by: str, printed_at: datetime) -> bytes:
    st = pdf.styles()
    time = ("Time", f"{doc.started}-{doc.closed} ({doc.total_time} on items)")
    furniture = _furniture(doc.heading, "minutes", "not recorded", time, printed_by, printed_at)
    counts = {
        s: sum(1 for i in doc.items if i.status == s)
        for s in ("discussed", "deferred", "not reached")
    }
    story: list[Flowable] = [
        pdf.para(
            f"{counts['discussed']} discussed, {counts['deferred']} deferred, "
            f"{counts['not reached']} not reached. Deferred and not reached people roll over to "
            "the next huddle.",
            st.muted,
        )
    ]
    present = doc.heading.attendees
    attendees = pdf.bullet_list(present) if present else pdf.para("Not recorded")
    story += pdf.section("Attendees", [attendees])
    story += pdf.section("Discussions", [])
    for n, it in enumerate(doc.items, 1):
        rows: list[tuple[str, pdf.Cell]] = [
            ("Status", f"{it.status.capitalize()} {it.duration}".strip())
        ]
        rows.append(("Why on the agenda", list(it.reasons) or "-"))
        if it.outcome:
            rows.append(("Why deferred" if it.status == "deferred" else "Outcome", it.outcome))
        if it.decisions:
            rows.append(("Decisions", it.decisions))
        if it.actions:
            rows.append(("Actions agreed", list(it.actions)))
        story.append(
            KeepTogether(
                [
                    pdf.para(f"{n}. {it.name}  ·  NHS {it.nhs_number}", st.h3),
                    pdf.key_value_table(rows),
                    Spacer(1, 6),
                ]
            )
        )
    return pdf.render(story, furniture)
