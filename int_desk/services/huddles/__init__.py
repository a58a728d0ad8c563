"""Huddles: plan, agenda from rules, run mode and minutes.

Qt-free. Every public function that changes anything takes keyword-only ``session`` and
``actor``, checks a permission (``run_huddle``; the record-keeping it triggers goes through
``patient_actions`` with that module's own checks), and writes an audit entry in the same
transaction. Audit details hold ids, counts and field names only.

Lifecycle: planned -> in_progress (``start_huddle``) -> closed (``close_huddle``). Items are
pending until marked discussed or deferred; at close, deferred and pending ("not reached") items
roll over to the team's next huddle.

The agenda is computed in SQL, one indexed query per rule over the team's active caseload; the
rules and their parameters are team configuration (``int_desk.domain.huddle_agenda``).
Everything recorded lands in the person's record: a ``huddle_discussion`` Contact when an item is
marked discussed or deferred, Task rows (kind ``task`` or ``home_visit``) for their owners, and
escalations and referrals through ``patient_actions``.

The package's parts, each importing only those before it: ``common`` (day formats, the team),
``config`` (a team's agenda configuration), ``agenda`` (the rules), ``planning``, ``views``
(what the page, PDFs and CLI show) and ``run`` (run mode, which closes with the minutes). Callers
use the names re-exported here (``from int_desk.services import huddles as h``).
"""

from __future__ import annotations

from int_desk.services.huddles.agenda import (
    Agenda,
    AgendaCandidate,
    Reason,
    compute_agenda,
)
from int_desk.services.huddles.common import (
    MAX_OUTCOME,
    WITHHELD,
    fmt_day,
    local_datetime,
    team_by_name,
)
from int_desk.services.huddles.config import (
    agenda_config,
    set_agenda_config,
)
from int_desk.services.huddles.planning import (
    add_item,
    get_huddle,
    move_item,
    plan_huddle,
    refresh_agenda,
    remove_item,
    reorder_items,
    restore_item,
    set_attendees,
)
from int_desk.services.huddles.run import (
    add_item_escalation,
    add_item_home_visit,
    add_item_referral,
    add_item_task,
    close_huddle,
    defer_item,
    mark_discussed,
    record_outcome,
    reopen_item,
    start_huddle,
)
from int_desk.services.huddles.views import (
    ActionLine,
    HuddleView,
    ItemRecord,
    action_text,
    contact_lines,
    fmt_duration,
    huddle_view,
    item_record,
    list_huddles,
    minutes_text,
    minutes_view,
    search_caseload,
    team_choices,
    team_members,
)

__all__ = [
    "action_text",
    "ActionLine",
    "add_item",
    "add_item_escalation",
    "add_item_home_visit",
    "add_item_referral",
    "add_item_task",
    "Agenda",
    "agenda_config",
    "AgendaCandidate",
    "close_huddle",
    "compute_agenda",
    "contact_lines",
    "defer_item",
    "fmt_day",
    "fmt_duration",
    "get_huddle",
    "huddle_view",
    "HuddleView",
    "item_record",
    "ItemRecord",
    "list_huddles",
    "local_datetime",
    "mark_discussed",
    "MAX_OUTCOME",
    "minutes_text",
    "minutes_view",
    "move_item",
    "plan_huddle",
    "Reason",
    "record_outcome",
    "refresh_agenda",
    "remove_item",
    "reopen_item",
    "reorder_items",
    "restore_item",
    "search_caseload",
    "set_agenda_config",
    "set_attendees",
    "start_huddle",
    "team_by_name",
    "team_choices",
    "team_members",
    "WITHHELD",
]
