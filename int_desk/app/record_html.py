"""The patient record as the record pane shows it: plain, high-contrast HTML a screen reader
reads in order (alerts, flags, about, carer, team, cohorts, care plan, tasks, referrals, timeline).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from int_desk.app import colours
from int_desk.domain import information_needs
from int_desk.domain.uk_time import in_london
from int_desk.domain.wording import plural
from int_desk.services import patient_record as pr


def escaped(text: Any) -> str:
    """Text (or nothing) made safe to put in the record's HTML."""
    return html.escape(str(text or ""))


def labelled(label: str, text: Any) -> list[str]:
    """A "<b>Label:</b> text" paragraph, or none when there is no text."""
    return [f"<p><b>{label}:</b> {escaped(text)}</p>"] if text else []


def short_date(value: date | None) -> str:
    """A day as the record shows it: 10 Jan 2026 (empty for none)."""
    return value.strftime("%d %b %Y") if value else ""


def record_html(r: pr.PatientRecord, today: date) -> str:
    """The record pane's content. Plain, high-contrast HTML a screen reader reads in order."""
    out: list[str] = []
    alerts = []
    for m in r.active_memberships:
        if m.priority.value == "high":
            alerts.append(f"▲ High priority ({escaped(m.cohort)})")
    if r.plan and r.plan.status == "active" and r.plan.review_date and r.plan.review_date < today:
        alerts.append(f"! Care plan review overdue since {short_date(r.plan.review_date)}")
    overdue = [t for t in r.open_tasks if t.overdue(today)]
    if overdue:
        alerts.append("! " + plural(len(overdue), "task") + " overdue")
    if r.open_escalations:
        alerts.append("! " + plural(len(r.open_escalations), "open escalation"))
    if alerts:  # dark red on pale red in light and dark appearance alike (7.6:1)
        out.append(
            f"<p style='background:{colours.OVERDUE_BG};color:{colours.ALERT_TEXT};padding:4px'><b>"
            + " &nbsp;·&nbsp; ".join(alerts)
            + "</b></p>"
        )
    if r.flags:
        out.append(
            "<p><b>Flags:</b> "
            + ", ".join(
                f"{escaped(c.label)}" + (f" ({escaped(n)})" if n else "") for c, n in r.flags
            )
            + "</p>"
        )
    out.append("<h3>About</h3><table cellspacing='2'>")
    rows = [
        ("Born", f"{short_date(r.date_of_birth)} ({r.age(today)})"),
        ("Sex", r.sex.capitalize()),
        ("Address", f"{r.address}, {r.postcode}" if r.address else r.postcode),
        ("Phone", r.phone),
        ("Practice", r.practice),
        ("Communication", r.communication_needs or "No needs recorded"),
        ("Information needs", information_needs.labels(r.information_needs) or "None recorded"),
    ]
    if r.clinical_visible and r.long_term_conditions:
        rows.append(("Conditions", r.long_term_conditions))
    out += [f"<tr><td><b>{k}</b>&nbsp;</td><td>{escaped(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    out.append("<h3>Unpaid carer</h3>")
    if r.carer_name:
        carer = f"{escaped(r.carer_name)}"
        if r.carer_relationship:
            carer += f" ({escaped(r.carer_relationship)})"
        if r.carer_phone:
            carer += f" · {escaped(r.carer_phone)}"
        out.append(
            f"<p>{carer}" + (f"<br>{escaped(r.carer_needs)}" if r.carer_needs else "") + "</p>"
        )
    else:
        out.append("<p>No unpaid carer recorded.</p>")
    out.append("<h3>Team around the person</h3><ul>")
    out += [
        f"<li><b>{escaped(p.role)}:</b> {escaped(p.name)}"
        + (f" – {escaped(p.detail)}" if p.detail else "")
        + "</li>"
        for p in r.team
    ] or ["<li>No one named yet.</li>"]
    out.append("</ul><h3>Cohorts</h3><ul>")
    for m in r.memberships:
        state = (
            f"since {short_date(m.enrolled_on)}, {m.priority.value} priority"
            if m.active
            else f"discharged {short_date(m.discharged_on)} – {escaped(m.discharge_reason)}"
        )
        out.append(f"<li><b>{escaped(m.cohort)}</b> ({escaped(m.team)}): {state}</li>")
    out.append("</ul><h3>Care plan</h3>")
    if r.plan:
        p = r.plan
        review = f", review {short_date(p.review_date)}" if p.review_date else ""
        out.append(f"<p>Version {p.version}, {escaped(p.status)}{review}.</p>")
        out += labelled("What matters to me", p.what_matters)
        if p.goals:
            out.append("<ul>" + "".join(f"<li>{escaped(g)}</li>" for g in p.goals) + "</ul>")
        out += labelled("If things change", p.contingency_plan)
    else:
        out.append("<p><b>No care plan yet.</b></p>")
    out.append("<h3>Open tasks</h3>")
    if r.open_tasks:
        out.append("<ul>")
        for t in r.open_tasks:
            flag = " <b>! OVERDUE</b>" if t.overdue(today) else ""
            out.append(
                f"<li>{escaped(t.description)} – due {short_date(t.due_on)}{flag} – {escaped(t.owner)}</li>"
            )
        out.append("</ul>")
    else:
        out.append("<p>None.</p>")
    if r.open_referrals:
        out.append("<h3>Open referrals</h3><ul>")
        out += [f"<li>{escaped(o.label)} – {escaped(o.detail)}</li>" for o in r.open_referrals]
        out.append("</ul>")
    out.append("<h3>Timeline</h3>")
    if not r.timeline:
        out.append("<p>Nothing recorded yet.</p>")
    for e in r.timeline:
        when = (
            in_london(e.when).strftime("%d %b %Y %H:%M")
            if e.kind in ("contact", "escalation", "gp_notification")
            else in_london(e.when).strftime("%d %b %Y")  # a task's day is London's too
        )
        status = f" [{escaped(e.status)}]" if e.status else ""
        who = f" – {escaped(e.who)}" if e.who else ""
        out.append(
            f"<p><b>{when}</b> · <b>{escaped(e.label)}</b>{status}{who}<br>{escaped(e.text)}</p>"
        )
    return "\n".join(out)
