"""Care-plan rules on plain data: what a plan holds, sign-off checks, review state, version diff.

Nothing here touches the store or Qt. ``int_desk.services.care_plans`` builds ``PlanView``
snapshots from store rows and calls these rules; ``int_desk.reports`` renders the same snapshots.

Public API: ``PlanView``, ``GoalView``, ``ActionView``, ``PatientSummary``, ``PLAN_FIELDS``,
``INTERNAL_FIELDS``, ``Problem``, ``sign_off_problems``, ``review_state``, ``status_label``,
``PlanDiff``, ``diff_plans``, and the errors ``PlanNotEditable`` and ``ConsentNotGiven``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Any

from int_desk.domain.errors import IntDeskError
from int_desk.domain.information_needs import InformationNeed
from int_desk.domain.vocab import CarePlanStatus, ConsentDecision


class Variant(StrEnum):
    """The two printed copies of a plan."""

    PROFESSIONAL = "professional"  # the sharing copy: care home, specialist, GP, team
    CARER = "carer"  # plain-language copy for the person and their family or carer


class PlanNotEditable(IntDeskError):
    """A signed-off (active, superseded or closed) version was asked to change."""


class ConsentNotGiven(IntDeskError):
    """The person declined (or has not given) consent to share, and no override was recorded."""


# Editable plan fields, in the order the editor and the PDF show them, with their labels.
PLAN_FIELDS: dict[str, str] = {
    "about_me": "About me",
    "what_matters": "What matters to me",
    "contingency_plan": "Contingency / crisis plan",
    "clinical_summary": "Clinical summary",
    "medicines_notes": "Medicines notes",
    "carer_involvement": "Unpaid carer's involvement",
    "consent_decision": "Consent to share",
    "consent_with": "Consent: shared with",
    "consent_date": "Consent date",
    "consent_recorded_by": "Consent recorded by",
    "lead_member_id": "Named lead professional",
    "review_date": "Review date",
}
TEXT_FIELDS = frozenset(
    {
        "about_me",
        "what_matters",
        "contingency_plan",
        "clinical_summary",
        "medicines_notes",
        "carer_involvement",
        "consent_with",
    }
)
DATE_FIELDS = frozenset({"consent_date", "review_date"})
MEMBER_FIELDS = frozenset({"consent_recorded_by", "lead_member_id"})
# Internal clinical notes: left out of the patient/carer copy and hidden from non-clinical roles.
INTERNAL_FIELDS = frozenset({"clinical_summary", "medicines_notes"})

GOAL_FIELDS: dict[str, str] = {
    "description": "goal",
    "target_measure": "target",
    "target_date": "target date",
    "lifecycle_status": "status",
    "achievement_status": "progress",
}
ACTION_FIELDS: dict[str, str] = {
    "description": "what",
    "who": "who",
    "when": "when",
    "status": "status",
    "goal_number": "linked goal",
}

CONSENT_LABELS = {
    ConsentDecision.PERMIT.value: "Given",
    ConsentDecision.DENY.value: "Declined",
}
GOAL_STATUS_LABELS = {
    "proposed": "Proposed",
    "active": "Active",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
ACHIEVEMENT_LABELS = {
    "in-progress": "In progress",
    "improving": "Improving",
    "worsening": "Getting worse",
    "no-change": "No change",
    "achieved": "Achieved",
    "not-achieved": "Not achieved",
}
ACTION_STATUS_LABELS = {
    "draft": "Draft",
    "requested": "To do",
    "accepted": "Agreed",
    "in-progress": "Under way",
    "on-hold": "On hold",
    "completed": "Done",
    "cancelled": "Cancelled",
}


@dataclass(frozen=True)
class PatientSummary:
    """Who the plan is about, as printed in headers (never logged)."""

    id: uuid.UUID
    name: str
    nhs_number: str  # bare 10 digits
    date_of_birth: date
    address: str = ""
    communication_needs: str = ""
    carer_name: str = ""
    carer_relationship: str = ""
    carer_phone: str = ""
    usual_gp: str = ""
    team: str = ""  # the INT(s) caring for the person, e.g. "Bicester INT (Bicester PCN)"
    # Accessible Information Standard needs; large print picks the large-print carer copy.
    information_needs: tuple[InformationNeed, ...] = ()
    team_phone: str = ""  # how to call them, e.g. "Bicester INT 01632 960100" ("" if none)


@dataclass(frozen=True)
class GoalView:
    id: uuid.UUID
    number: int  # 1-based, as printed
    description: str
    target_measure: str = ""
    target_date: date | None = None
    lifecycle_status: str = "active"
    achievement_status: str = "in-progress"


@dataclass(frozen=True)
class ActionView:
    id: uuid.UUID
    number: int
    description: str
    who: str = ""  # resolved "person (role), team"
    when: str = ""
    status: str = "requested"
    goal_id: uuid.UUID | None = None
    goal_number: int | None = None
    owner_role: str | None = None
    owner_member_id: uuid.UUID | None = None
    owner_team_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PlanView:
    """One version of a plan with everything resolved to printable values."""

    id: uuid.UUID
    series_id: uuid.UUID
    version: int
    status: str
    patient: PatientSummary
    about_me: str = ""
    what_matters: str = ""
    contingency_plan: str = ""
    clinical_summary: str = ""
    medicines_notes: str = ""
    carer_involvement: str = ""
    consent_decision: str | None = None
    consent_with: str = ""
    consent_date: date | None = None
    consent_recorded_by: str = ""  # name (role)
    lead: str = ""  # name (role)
    lead_member_id: uuid.UUID | None = None
    review_date: date | None = None
    signed_off_by: str = ""
    signed_off_at: datetime | None = None
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    goals: tuple[GoalView, ...] = ()
    actions: tuple[ActionView, ...] = ()
    contributors: tuple[str, ...] = ()
    clinical_redacted: bool = False  # internal notes withheld from this viewer

    @property
    def is_draft(self) -> bool:
        return self.status == CarePlanStatus.DRAFT.value

    @property
    def consent_declined(self) -> bool:
        return self.consent_decision == ConsentDecision.DENY.value


# --- sign-off --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a plan cannot be signed off; ``field`` names the editor section to fix."""

    field: str
    message: str


def sign_off_problems(
    *,
    goals: int,
    review_date: date | None,
    consent_decision: str | None,
    today: date,
) -> list[Problem]:
    """Everything that stops sign-off, in editor order (empty list: ready to sign)."""
    problems: list[Problem] = []
    if goals == 0:
        problems.append(Problem("goals", "Add at least one goal in the person's own words."))
    if review_date is None:
        problems.append(Problem("review_date", "Set a review date."))
    elif review_date < today:
        problems.append(Problem("review_date", "The review date is in the past."))
    if consent_decision not in (ConsentDecision.PERMIT.value, ConsentDecision.DENY.value):
        problems.append(
            Problem("consent_decision", "Record the consent-to-share decision (given or declined).")
        )
    return problems


# --- status ----------------------------------------------------------------------------------


def is_due_for_review(status: str, review_date: date | None, today: date) -> bool:
    """'Due for review' is derived, never stored: an active plan whose review date has come."""
    return status == CarePlanStatus.ACTIVE.value and (
        review_date is not None and review_date <= today
    )


def review_state(status: str, review_date: date | None, today: date) -> str:
    """A short phrase for lists and headers: '', 'due for review', 'review overdue by 12 days'."""
    if not is_due_for_review(status, review_date, today):
        return ""
    assert review_date is not None
    late = (today - review_date).days
    return "due for review today" if late == 0 else f"review overdue by {late} days"


def status_label(status: str, review_date: date | None, today: date) -> str:
    label = {
        CarePlanStatus.DRAFT.value: "Draft (not signed off)",
        CarePlanStatus.ACTIVE.value: "Active",
        CarePlanStatus.SUPERSEDED.value: "Superseded",
        CarePlanStatus.CLOSED.value: "Closed",
    }.get(status, status)
    if is_due_for_review(status, review_date, today):
        label += " - due for review"
    return label


# --- diff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class RowChange:
    """A goal or action that is in both versions but differs; ``fields`` lists what changed."""

    before: str
    after: str
    fields: tuple[str, ...]


@dataclass
class PlanDiff:
    from_version: int
    to_version: int
    fields: list[FieldChange] = field(default_factory=list)
    goals_added: list[str] = field(default_factory=list)
    goals_removed: list[str] = field(default_factory=list)
    goals_changed: list[RowChange] = field(default_factory=list)
    actions_added: list[str] = field(default_factory=list)
    actions_removed: list[str] = field(default_factory=list)
    actions_changed: list[RowChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.fields
            or self.goals_added
            or self.goals_removed
            or self.goals_changed
            or self.actions_added
            or self.actions_removed
            or self.actions_changed
        )

    @property
    def changed_fields(self) -> list[str]:
        """Field names that changed, plus 'goals'/'actions' when any row did."""
        names = [c.field for c in self.fields]
        if self.goals_added or self.goals_removed or self.goals_changed:
            names.append("goals")
        if self.actions_added or self.actions_removed or self.actions_changed:
            names.append("actions")
        return names

    def lines(self) -> list[str]:
        """Plain-language summary, one change a line, for the history view and the CLI."""
        out = [f"{c.label}: '{_short(c.before)}' -> '{_short(c.after)}'" for c in self.fields]
        out += [f"Goal added: {_short(g)}" for g in self.goals_added]
        out += [f"Goal removed: {_short(g)}" for g in self.goals_removed]
        out += [
            f"Goal changed ({', '.join(c.fields)}): {_short(c.after)}" for c in self.goals_changed
        ]
        out += [f"Action added: {_short(a)}" for a in self.actions_added]
        out += [f"Action removed: {_short(a)}" for a in self.actions_removed]
        out += [
            f"Action changed ({', '.join(c.fields)}): {_short(c.after)}"
            for c in self.actions_changed
        ]
        return out or ["No differences."]


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _plan_value(plan: PlanView, name: str) -> str:
    if name == "lead_member_id":
        return plan.lead
    if name == "consent_decision":
        return CONSENT_LABELS.get(plan.consent_decision or "", "")
    return _fmt(getattr(plan, name))


SIMILAR = 0.6  # an edited description still pairs with its earlier wording above this ratio


def _pair_rows(
    before: list[Any], after: list[Any]
) -> tuple[list[Any], list[Any], list[tuple[Any, Any]]]:
    """Match rows across versions: same description first, then the most similar wording.

    Goals and actions are copied as new rows into each new draft, so ids differ between
    versions; the text is the person-visible identity. A reworded description (similarity at
    least ``SIMILAR``) shows as 'changed'; anything else is 'removed' plus 'added'.
    """
    unmatched_after = list(after)
    pairs: list[tuple[Any, Any]] = []
    left_before = []
    for row in before:
        hit = next((r for r in unmatched_after if r.description == row.description), None)
        if hit is None:
            left_before.append(row)
        else:
            unmatched_after.remove(hit)
            pairs.append((row, hit))
    scored = sorted(
        (
            (SequenceMatcher(None, a.description, b.description).ratio(), i, j)
            for i, a in enumerate(left_before)
            for j, b in enumerate(unmatched_after)
        ),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    for ratio, i, j in scored:
        if ratio < SIMILAR:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((left_before[i], unmatched_after[j]))
    removed = [r for i, r in enumerate(left_before) if i not in used_a]
    added = [r for j, r in enumerate(unmatched_after) if j not in used_b]
    return removed, added, pairs


def _row_changes(pairs: list[tuple[Any, Any]], fields: dict[str, str]) -> list[RowChange]:
    changes = []
    for a, b in pairs:
        changed = tuple(
            label
            for name, label in fields.items()
            if _fmt(getattr(a, name)) != _fmt(getattr(b, name))
        )
        if changed:
            changes.append(RowChange(a.description, b.description, changed))
    return changes


def diff_plans(a: PlanView, b: PlanView) -> PlanDiff:
    """What changed from version ``a`` to version ``b`` (fields, goals, actions)."""
    diff = PlanDiff(a.version, b.version)
    for name, label in PLAN_FIELDS.items():
        before, after = _plan_value(a, name), _plan_value(b, name)
        if before != after:
            diff.fields.append(FieldChange(name, label, before, after))
    removed, added, pairs = _pair_rows(list(a.goals), list(b.goals))
    diff.goals_removed = [g.description for g in removed]
    diff.goals_added = [g.description for g in added]
    diff.goals_changed = _row_changes(pairs, GOAL_FIELDS)
    removed, added, pairs = _pair_rows(list(a.actions), list(b.actions))
    diff.actions_removed = [x.description for x in removed]
    diff.actions_added = [x.description for x in added]
    diff.actions_changed = _row_changes(pairs, ACTION_FIELDS)
    return diff
