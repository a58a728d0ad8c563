"""GP notifications: when the INT acts on an episode, the registered practice is told.

The triggers, what each is called, and the permission the action that queues it needs (the
endpoint accepts a pushed notification only from a role that may take that action).
"""

from __future__ import annotations

from enum import StrEnum

from int_desk.domain.permissions import Permission


class Trigger(StrEnum):
    HUDDLE_OUTCOME = "huddle_outcome"
    ESCALATION_RESOLVED = "escalation_resolved"
    COHORT_DISCHARGE = "cohort_discharge"
    PLAN_SIGNED_OFF = "plan_signed_off"

    @property
    def label(self) -> str:
        return TRIGGER_LABELS[self]


TRIGGER_LABELS = {
    Trigger.HUDDLE_OUTCOME: "Discussed at the INT huddle",
    Trigger.ESCALATION_RESOLVED: "Escalation resolved",
    Trigger.COHORT_DISCHARGE: "Discharged from an INT cohort",
    Trigger.PLAN_SIGNED_OFF: "Care plan signed off",
}

TRIGGER_PERMISSIONS: dict[str, Permission] = {
    Trigger.HUDDLE_OUTCOME.value: Permission.RUN_HUDDLE,
    Trigger.ESCALATION_RESOLVED.value: Permission.RESOLVE_ESCALATION,
    Trigger.COHORT_DISCHARGE.value: Permission.EDIT_PATIENT,
    Trigger.PLAN_SIGNED_OFF.value: Permission.SIGN_OFF_PLAN,
}

# Written by the endpoint when the practice reads the notification; never by a laptop.
ENDPOINT_ONLY_FIELDS = frozenset({"read_at", "read_by"})
