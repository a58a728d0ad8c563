"""Every open view refreshes after an edit made through any service, on any thread, without the
writer telling it: the store publishes each commit's changes and the app relays them (issue 19).

The main window is open on a real encrypted demo workspace, every page built, one person's
record open in the caseload. Each step writes through a service on a worker thread (as the
store worker, the sync thread and imports do) and then waits for what a user would see change:
the record pane's text, My tasks' rows, the caseload's count, the huddle page's status, the
overview's total, the administration page's places. A screen left stale is a clinical hazard
(H-22): a clinician acting on a plan, a task list or a caseload that is no longer true.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from int_desk.app.caseload_page import CaseloadPage
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.app.sync_status import NOT_CONNECTED
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import Role
from int_desk.server.models import ServerUser
from int_desk.services import admissions_import as ai
from int_desk.services import care_plans as cp
from int_desk.services import cohort_import as ci
from int_desk.services import huddles as h
from int_desk.services import patient_actions as pa
from int_desk.services import sync_conflicts
from int_desk.services import team_setup as ts
from int_desk.services.caseload import resolve_cohort
from int_desk.services.identity import current_actor, set_current_member
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.care_plan_data import actor_with_role, first_team, patient_without_plan
from tests.helpers.sync_env import Endpoint, laptop, sync

WAIT = 20_000
NEW_PEOPLE = (
    "nhs_number;surname;forename;DOB;post code\n"
    "9994765914;Example;Ann;1940-02-01;OX26 1AB\n"
    "999 476 5876;Sample;Bea;3/4/1936;OX26 2AB\n"
)


def _on_worker(write: Callable[[Any], Any], ws: Workspace) -> Any:
    """Run ``write(session)`` in one unit of work on another thread, as the app's workers do:
    the change reaches the views only through the store's publication, queued to the GUI."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            with ws.session() as s:
                out["value"] = write(s)
        except BaseException as exc:  # re-raised on the test's thread
            out["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    if "error" in out:
        raise out["error"]
    return out.get("value")


class Desk:
    """The open window and the pages the steps look at."""

    def __init__(self, qtbot: QtBot, window: MainWindow, patient_id: uuid.UUID) -> None:
        self.qtbot, self.window, self.patient_id = qtbot, window, patient_id
        self.ws = window.ctx.workspace
        window.build_pending_pages()
        self.caseload: CaseloadPage = window.pages["CaseloadPage"]  # type: ignore[assignment]
        self.tasks = window.pages["MyTasksPage"]
        self.huddle = window.pages["HuddlePage"]
        self.overview = window.pages["OverviewPage"]
        self.admin = window.pages["AdministrationPage"]

    def write(self, op: Callable[[Any], Any]) -> Any:
        return _on_worker(op, self.ws)

    def sees(self, what: Callable[[], bool]) -> None:
        self.qtbot.waitUntil(what, timeout=WAIT)

    def record_text(self) -> str:
        return self.caseload.pane.browser.toPlainText()

    def task_rows(self) -> list[str]:
        model = self.tasks.table.model()
        cols = model.columnCount()
        return [
            " | ".join(str(model.index(r, c).data() or "") for c in range(cols))
            for r in range(model.rowCount())
        ]

    def place_names(self) -> list[str]:
        table = self.admin.places.table
        return [table.item(r, 0).text() for r in range(table.rowCount())]


@pytest.fixture
def desk(qtbot: QtBot, demo_dir: Path) -> Iterator[Desk]:
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        coordinator = current_actor(s)
        assert coordinator.role is Role.CARE_COORDINATOR
        team = first_team(s)  # the team lets its coordinator keep the directory too
        team.config = {**(team.config or {}), "role_permissions": {"care_coordinator": [
            "manage_members"]}}  # fmt: skip
        patient_id = patient_without_plan(s).id
    ws = Workspace.open(demo_dir, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    d = Desk(qtbot, window, patient_id)
    d.sees(lambda: d.caseload.model.rowCount() > 0)
    d.caseload.open_patient(patient_id)
    d.sees(lambda: d.caseload.record is not None and d.caseload.record.patient_id == patient_id)
    d.sees(lambda: d.admin.places.table.rowCount() > 0 and d.tasks.summary.text() != "Loading…")
    d.sees(lambda: "people on the caseload" in d.overview.summary.text())
    yield d
    window.ctx.tasks.wait()
    window.close()
    ws.close()


def _actor(s: Any, role: Role | None = None) -> Any:
    return actor_with_role(s, role) if role else current_actor(s)


def test_every_open_view_shows_edits_made_through_the_services(desk: Desk) -> None:
    pid = desk.patient_id

    # Caseload / record actions: a contact, an escalation, a task for the signed-in member.
    desk.write(
        lambda s: pa.add_contact(
            session=s, actor=_actor(s), patient_id=pid, kind="phone_call",
            text="Rang her daughter about the weekend (REFRESH-CONTACT)",
        )
    )  # fmt: skip
    desk.sees(lambda: "REFRESH-CONTACT" in desk.record_text())
    assert "open escalation" not in desk.record_text()
    desk.write(lambda s: pa.escalate(session=s, actor=_actor(s), patient_id=pid, reason="Falls"))
    desk.sees(lambda: "1 open escalation" in desk.record_text())

    me = desk.window.ctx.actor.member_id
    task = desk.write(
        lambda s: pa.allocate_task(
            session=s, actor=_actor(s), patient_id=pid, description="Check the pendant alarm",
            due_on=london_today() + timedelta(days=2), owner_member_id=me,
        ).id
    )  # fmt: skip
    desk.sees(lambda: any("Check the pendant alarm" in r for r in desk.task_rows()))
    desk.sees(lambda: "Check the pendant alarm" in desk.record_text())
    desk.write(lambda s: pa.complete_task(session=s, actor=_actor(s), task_id=task))
    desk.sees(lambda: not any("Check the pendant alarm" in r for r in desk.task_rows()))
    desk.sees(lambda: "Check the pendant alarm" not in desk.record_text().split("Timeline")[0])

    # Care plan: a draft, then signed off by a clinical lead.
    assert "No care plan yet." in desk.record_text()

    def start(s: Any) -> uuid.UUID:
        plan = cp.start_plan(session=s, actor=_actor(s), patient_id=pid)
        cp.update_plan(
            session=s, actor=_actor(s), plan_id=plan.id,
            changes={"what_matters": "Staying at home with my cat (REFRESH-PLAN)"},
        )  # fmt: skip
        return plan.id

    plan_id = desk.write(start)
    desk.sees(lambda: "REFRESH-PLAN" in desk.record_text())
    assert "Version 1, draft" in desk.record_text()

    def sign(s: Any) -> None:
        lead = _actor(s, Role.CLINICAL_LEAD)
        cp.update_plan(
            session=s, actor=lead, plan_id=plan_id,
            changes={
                "contingency_plan": "If breathless: rescue pack, then call the INT.",
                "consent_decision": "permit", "consent_with": "INT members, GP practice",
                "review_date": london_today() + timedelta(days=90),
                "lead_member_id": lead.member_id,
            },
        )  # fmt: skip
        goal = cp.add_goal(session=s, actor=lead, plan_id=plan_id, description="Walk to the shop")
        cp.add_action(
            session=s, actor=lead, plan_id=plan_id, description="Mobility review",
            owner_role=Role.PHYSIO_OT.value, goal_id=goal.id, when="Within 2 weeks",
        )  # fmt: skip
        problems = cp.sign_off_problems(session=s, actor=lead, plan_id=plan_id)
        assert not problems, problems
        cp.sign_off(session=s, actor=lead, plan_id=plan_id)

    desk.write(sign)
    desk.sees(lambda: "Version 1, active" in desk.record_text())

    # Huddles: planned, started, run, closed.
    team_id = desk.huddle.team_id
    assert team_id is not None
    when = datetime.combine(london_today() + timedelta(days=1), datetime.min.time()).replace(hour=9)

    def plan(s: Any) -> tuple[uuid.UUID, uuid.UUID]:
        huddle = h.plan_huddle(
            session=s, actor=_actor(s), team_id=team_id, scheduled_at=when, generate=False
        )
        item = h.add_item(
            session=s, actor=_actor(s), huddle_id=huddle.id, patient_id=pid, reason="Falls"
        )
        return huddle.id, item.id

    huddle_id, item_id = desk.write(plan)
    combo = desk.huddle.huddle_combo
    desk.sees(lambda: huddle_id in [combo.itemData(i) for i in range(combo.count())])
    desk.huddle.reload(huddle_id)  # the user picks it
    desk.sees(lambda: desk.huddle.view is not None and desk.huddle.view.id == huddle_id)
    assert " · planned · " in desk.huddle.status.text()
    desk.write(lambda s: h.start_huddle(session=s, actor=_actor(s), huddle_id=huddle_id))
    desk.sees(lambda: " · in progress · " in desk.huddle.status.text())

    def discuss(s: Any) -> None:
        h.record_outcome(
            session=s, actor=_actor(s), item_id=item_id, outcome="Pendant alarm (REFRESH-HUDDLE)",
            decisions="",
        )  # fmt: skip
        h.mark_discussed(session=s, actor=_actor(s), item_id=item_id)

    desk.write(discuss)
    desk.sees(
        lambda: desk.huddle.run_list.count() == 1 and "✓" in desk.huddle.run_list.item(0).text()
    )
    desk.sees(lambda: "REFRESH-HUDDLE" in desk.record_text())  # the discussion, in the timeline
    desk.write(lambda s: h.close_huddle(session=s, actor=_actor(s), huddle_id=huddle_id))
    desk.sees(lambda: " · closed · " in desk.huddle.status.text())
    assert "REFRESH-HUDDLE" in desk.huddle.minutes_text.toPlainText()

    # Cohort import: two new people join the caseload and the overview's total.
    people = desk.caseload.model.rowCount()
    total = desk.overview.summary.text()

    def import_people(s: Any) -> None:
        table = ci.read_csv(NEW_PEOPLE.encode())
        mapping = ci.auto_mapping(table.headers)
        cohort = resolve_cohort(s, current_actor(s), "Frailty")
        preview = ci.build_preview(
            session=s, actor=current_actor(s), cohort_id=cohort, table=table, mapping=mapping
        )
        assert preview.count(ci.NEW) == 2, preview.report_lines()
        ci.apply_import(session=s, actor=current_actor(s), preview=preview)

    desk.write(import_people)
    desk.sees(lambda: desk.caseload.model.rowCount() == people + 2)
    desk.sees(lambda: desk.overview.summary.text() != total)

    # Admissions import: an emergency stay in the open person's record.
    with desk.ws.session() as s:
        nhs = format_nhs(s.get(m.Patient, pid).nhs_number)  # type: ignore[union-attr]
    yesterday = london_today() - timedelta(days=1)
    extract = f"NHS Number,ADMIDATE,ADMIMETH\n{nhs},{yesterday:%d/%m/%Y},21\n"
    stays = desk.record_text().count("Emergency admission")

    def admit(s: Any) -> None:
        table = ai.read_admissions(extract.encode(), name="admissions.csv")
        preview = ai.build_preview(
            session=s, actor=current_actor(s), table=table, mapping=ai.auto_mapping(table.headers)
        )
        ai.apply_import(session=s, actor=current_actor(s), preview=preview)

    desk.write(admit)
    desk.sees(lambda: desk.record_text().count("Emergency admission") == stays + 1)

    # Administration: a new place in the directory.
    desk.write(
        lambda s: ts.save_place(session=s, actor=_actor(s), place_id=None, name="Kidlington")
    )
    desk.sees(lambda: "Kidlington" in desk.place_names())


def test_one_repaint_for_many_commits_in_one_turn(desk: Desk) -> None:
    """A burst of commits in one event-loop turn (a huddle item's outcome, contact and task in
    quick succession) reaches the views as one merged change, not one refresh each."""
    seen: list[Any] = []
    desk.window.ctx.events.changed.connect(seen.append)
    with desk.ws.session() as s:
        actor = current_actor(s)
    others = []
    for n in range(5):
        with desk.ws.session() as s:
            pa.add_contact(
                session=s, actor=actor, patient_id=desk.patient_id, kind="note", text=f"n{n}"
            )
            others.append(
                s.scalars(select(m.Patient.id).where(m.Patient.id != desk.patient_id)).first()
            )
    desk.sees(lambda: len(seen) >= 1)
    desk.qtbot.wait(100)  # any later relay (the views' own audited reads) would be here now
    contacts = [c for c in seen if c.touches("contact")]
    assert len(contacts) == 1 and contacts[0].touches_patient(desk.patient_id)
    assert not contacts[0].touches_patient(others[0])


def test_a_sync_download_and_a_resolved_conflict_refresh_the_open_window(
    qtbot: QtBot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:
    """Rows written by the sync client (Core statements on its own thread) and a conflict
    resolved through the service reach the open window. Sync is run directly here, not by the
    window's controller, so its ``sync_finished`` cannot be what refreshed anything."""
    ep = sqlite_endpoint
    a = laptop(tmp_path / "a", ep, "a", PASSPHRASE)
    b = laptop(tmp_path / "b", ep, "b", PASSPHRASE)
    try:
        sync(a), sync(b)
        with ep.session() as srv:
            member = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == "b"))
        with b.session() as s:
            set_current_member(s, member)
            pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        window = MainWindow(make_context(b))
        qtbot.addWidget(window)
        window.show()
        controller = window.sync
        qtbot.waitUntil(lambda: not controller.running and controller.last_ok, timeout=WAIT)
        controller.stop()
        controller.state = NOT_CONNECTED  # from here the test runs every sync cycle itself
        window.build_pending_pages()
        caseload: CaseloadPage = window.pages["CaseloadPage"]  # type: ignore[assignment]
        conflicts = window.pages["ConflictsPage"]
        caseload.open_patient(pid)
        qtbot.waitUntil(lambda: caseload.record is not None, timeout=WAIT)

        def record() -> str:
            return caseload.pane.browser.toPlainText()

        with a.session() as s:  # another laptop's edit reaches this one by a download
            p = s.get(m.Patient, pid)
            p.carer_name, p.carer_needs = "Dee Carer", "Needs respite (REFRESH-SYNC)"
        sync(a)
        assert "REFRESH-SYNC" not in record()
        _on_worker(lambda _s: sync(b), b)
        qtbot.waitUntil(lambda: "REFRESH-SYNC" in record(), timeout=WAIT)

        with a.session() as s:  # both change the same field: a conflict for a person to decide
            s.get(m.Patient, pid).carer_needs = "Works nights (from A)"  # type: ignore[union-attr]
        with b.session() as s:
            s.get(m.Patient, pid).carer_needs = "Visits daily (from B)"  # type: ignore[union-attr]
        sync(a)
        assert conflicts.table.rowCount() == 0
        assert _on_worker(lambda _s: sync(b), b).conflicts == 1
        qtbot.waitUntil(lambda: conflicts.table.rowCount() == 1, timeout=WAIT)

        def keep_theirs(s: Any) -> None:
            actor = current_actor(s)
            [c] = sync_conflicts.list_conflicts(session=s, actor=actor)
            sync_conflicts.resolve_conflict(
                session=s, actor=actor, conflict_id=c.id, choice="remote"
            )

        _on_worker(keep_theirs, b)
        qtbot.waitUntil(lambda: conflicts.table.rowCount() == 0, timeout=WAIT)
        qtbot.waitUntil(lambda: "Works nights (from A)" in record(), timeout=WAIT)
        window.ctx.tasks.wait()
        window.close()
    finally:
        a.close()
        b.close()
