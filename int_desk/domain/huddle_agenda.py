"""Huddle agenda rules as data: the defaults, their parameters and validation.

A team's rules live in ``Team.config["huddle_agenda"]`` as plain JSON, e.g.::

    {"max_items": 12,
     "rules": {"recent_discharge": {"days": 14},
               "not_discussed": {"days_by_priority": {"high": 3}},
               "newly_enrolled": {"enabled": false}}}

Anything left out takes the default below, so a team changes its agenda by changing data, never
code. ``resolve`` merges a stored (partial) configuration over the defaults and validates it;
unknown rules or parameters, wrong types and out-of-range values raise ``ValidationError`` naming
the offending field (e.g. ``rules.recent_discharge.days``).

Each rule contributes a reason to an item; an item's score is the sum of its reasons' weights, so
the agenda is ordered by how many (and how pressing) reasons a person has, then by priority.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import HealthEventKind, Priority

CONFIG_KEY = "huddle_agenda"

# Order here is the order reasons are listed within an item.
RULE_LABELS: dict[str, str] = {
    "roll_over": "Rolled over (deferred or not reached last time)",
    "add_to_huddle_flag": "Flagged 'add to next huddle' by a team member",
    "open_escalation": "Open escalation",
    "recent_discharge": "Discharged from hospital in the last N days (until discussed)",
    "acute_event": "ED attendance or emergency admission since the last huddle",
    "newly_enrolled": "Newly enrolled in a cohort in the last N days (until discussed)",
    "end_of_life": "End-of-life flag (discussed at least every N days)",
    "care_plan_review": "Care-plan review due or overdue",
    "overdue_tasks": "Overdue tasks",
    "not_discussed": "Not discussed for a while (frequency by priority)",
}
RULES = tuple(RULE_LABELS)

DEFAULT_CONFIG: dict[str, Any] = {
    "max_items": 15,  # a 30-minute huddle of 15 people at about 2 minutes each
    "minutes_per_item": 2,
    "rules": {
        "roll_over": {"enabled": True, "weight": 100},
        "add_to_huddle_flag": {"enabled": True, "weight": 80},
        "open_escalation": {"enabled": True, "weight": 70},
        "recent_discharge": {"enabled": True, "weight": 60, "days": 7},
        "acute_event": {
            "enabled": True,
            "weight": 60,
            "kinds": [
                HealthEventKind.ED_ATTENDANCE.value,
                HealthEventKind.EMERGENCY_ADMISSION.value,
            ],
            # With no earlier huddle for the team, look back this many days.
            "first_huddle_days": 7,
        },
        "newly_enrolled": {"enabled": True, "weight": 40, "days": 14},
        "end_of_life": {"enabled": True, "weight": 30, "every_days": 7},
        "care_plan_review": {"enabled": True, "weight": 30, "due_within_days": 7},
        "overdue_tasks": {"enabled": True, "weight": 20, "overdue_by_days": 1},
        "not_discussed": {
            "enabled": True,
            "weight": 10,
            # Higher priority -> discussed more often.
            "days_by_priority": {"high": 7, "medium": 28, "low": 84},
        },
    },
}

# Per parameter: (kind, minimum, maximum). "bool", "int", "kinds", "priority_days".
_PARAMS: dict[str, tuple[str, int, int]] = {
    "enabled": ("bool", 0, 1),
    "weight": ("int", 0, 1000),
    "days": ("int", 1, 365),
    "first_huddle_days": ("int", 1, 365),
    "every_days": ("int", 1, 365),
    "due_within_days": ("int", 0, 365),
    "overdue_by_days": ("int", 1, 365),
    "kinds": ("kinds", 0, 0),
    "days_by_priority": ("priority_days", 1, 730),
}


@dataclass(frozen=True)
class RuleConfig:
    code: str
    enabled: bool
    weight: int
    params: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.params[key]


@dataclass(frozen=True)
class AgendaConfig:
    max_items: int
    minutes_per_item: int
    rules: Mapping[str, RuleConfig]

    def rule(self, code: str) -> RuleConfig:
        return self.rules[code]

    def enabled(self, code: str) -> bool:
        return self.rules[code].enabled

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_items": self.max_items,
            "minutes_per_item": self.minutes_per_item,
            "rules": {
                code: {"enabled": r.enabled, "weight": r.weight, **copy.deepcopy(dict(r.params))}
                for code, r in self.rules.items()
            },
        }


def _int(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be a whole number.", field=field)
    if not lo <= value <= hi:
        raise ValidationError(f"{field} must be between {lo} and {hi}.", field=field)
    return value


def _param(name: str, value: Any, field: str) -> Any:
    kind, lo, hi = _PARAMS[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValidationError(f"{field} must be true or false.", field=field)
        return value
    if kind == "int":
        return _int(value, field, lo, hi)
    if kind == "kinds":
        if not isinstance(value, list) or not value:
            raise ValidationError(f"{field} must be a non-empty list of event kinds.", field=field)
        allowed = {k.value for k in HealthEventKind}
        for v in value:
            if v not in allowed:
                raise ValidationError(
                    f"{field}: unknown event kind '{v}' (use {', '.join(sorted(allowed))}).",
                    field=field,
                )
        return list(dict.fromkeys(value))
    # priority_days: a mapping priority -> days
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must map priorities to days.", field=field)
    out: dict[str, int] = {}
    for key, days in value.items():
        if key not in {p.value for p in Priority}:
            raise ValidationError(f"{field}: unknown priority '{key}'.", field=field)
        out[key] = _int(days, f"{field}.{key}", lo, hi)
    return out


def resolve(stored: Mapping[str, Any] | None) -> AgendaConfig:
    """Merge a team's stored (partial) agenda configuration over the defaults and validate it."""
    stored = stored or {}
    if not isinstance(stored, Mapping):
        raise ValidationError("The huddle agenda configuration must be an object.", field="")
    for key in stored:
        if key not in DEFAULT_CONFIG:
            raise ValidationError(f"Unknown agenda setting '{key}'.", field=key)
    max_items = _int(stored.get("max_items", DEFAULT_CONFIG["max_items"]), "max_items", 1, 200)
    minutes = _int(
        stored.get("minutes_per_item", DEFAULT_CONFIG["minutes_per_item"]),
        "minutes_per_item",
        1,
        60,
    )
    rules_in = stored.get("rules", {}) or {}
    if not isinstance(rules_in, Mapping):
        raise ValidationError("rules must map rule names to settings.", field="rules")
    for code in rules_in:
        if code not in RULE_LABELS:
            raise ValidationError(f"Unknown agenda rule '{code}'.", field=f"rules.{code}")
    rules: dict[str, RuleConfig] = {}
    for code in RULES:
        merged = copy.deepcopy(DEFAULT_CONFIG["rules"][code])
        override = rules_in.get(code, {}) or {}
        if not isinstance(override, Mapping):
            raise ValidationError(f"rules.{code} must be an object.", field=f"rules.{code}")
        for name, value in override.items():
            field = f"rules.{code}.{name}"
            if name not in merged:
                raise ValidationError(f"Unknown parameter '{name}' for rule {code}.", field=field)
            if name == "days_by_priority":
                merged[name] = {**merged[name], **_param(name, value, field)}
            else:
                merged[name] = _param(name, value, field)
        enabled = merged.pop("enabled")
        weight = merged.pop("weight")
        rules[code] = RuleConfig(code, enabled, weight, merged)
    return AgendaConfig(max_items, minutes, rules)


def default_config() -> AgendaConfig:
    return resolve(None)
