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
class AgendaDoc:
    team: str
    when: datetime  # local
    kind: str
    chair: str
    attendees: Sequence[str]
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
    team: str
    when: datetime
    kind: str
    chair: str
    attendees: Sequence[str]
    started: str
    closed: str
    total_time: str
    items: Sequence[MinutesLine]


def _when(d: datetime) -> str:
    d = in_london(d)
    return f"{d:%a} {d.day} {d:%b %Y}, {d:%H:%M}"


def agenda_pdf(doc: AgendaDoc, *, printed_by: str, printed_at: datetime) -> bytes:
    st = pdf.styles()
    furniture = pdf.PageFurniture(
        title="Huddle agenda",
        primary=doc.team,
        fields=(
            ("Huddle", f"{doc.kind.capitalize() or 'Huddle'}, {_when(doc.when)}"),
            ("Chair", doc.chair or "not set"),
            ("People", str(len(doc.items))),
        ),
        printed_by=printed_by,
        printed_at=printed_at,
        subject=f"{doc.team} huddle agenda",
        watermark=None,
    )
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
    if doc.attendees:
        story += pdf.section("Attendees", [pdf.bullet_list(doc.attendees)])
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
    furniture = pdf.PageFurniture(
        title="Huddle minutes",
        primary=doc.team,
        fields=(
            ("Huddle", f"{doc.kind.capitalize()}, {_when(doc.when)}"),
            ("Chair", doc.chair or "not recorded"),
            ("Time", f"{doc.started}-{doc.closed} ({doc.total_time} on items)"),
        ),
        printed_by=printed_by,
        printed_at=printed_at,
        subject=f"{doc.team} huddle minutes",
    )
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
    attendees = pdf.bullet_list(doc.attendees) if doc.attendees else pdf.para("Not recorded")
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
