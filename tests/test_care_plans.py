"""Care-plan lifecycle: drafts, sign-off rules, immutability, history, diff, permissions, audit."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from int_desk.domain.care_plan import PlanNotEditable
from int_desk.domain.errors import PermissionDenied, ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import Role
from int_desk.services import care_plan_views
from int_desk.services import care_plans as cp
from int_desk.store import audit
from int_desk.store.models import AuditEvent, CarePlan, Goal, PlanAction, Team
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.care_plan_data import (
    TODAY,
    actor_with_role,
    make_signed_plan,
    patient_without_plan,
)


def test_sign_off_blocked_until_goals_review_date_and_consent(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        plan = cp.start_plan(session=s, actor=lead, patient_id=patient.id)
        assert plan.status == "draft" and plan.version == 1

        with pytest.raises(ValidationError) as err:
            cp.sign_off(session=s, actor=lead, plan_id=plan.id, today=TODAY)
        message = str(err.value)
        assert "goal" in message and "review date" in message and "consent" in message

        cp.add_goal(session=s, actor=lead, plan_id=plan.id, description="I want to garden again.")
        with pytest.raises(ValidationError) as err:
            cp.sign_off(session=s, actor=lead, plan_id=plan.id, today=TODAY)
        assert "goal" not in str(err.value) and "review date" in str(err.value)
        assert err.value.field == "review_date"

        cp.update_plan(
            session=s, actor=lead, plan_id=plan.id, changes={"review_date": TODAY - timedelta(1)}
        )
        problems = cp.sign_off_problems(session=s, actor=lead, plan_id=plan.id, today=TODAY)
        assert [p.field for p in problems] == ["review_date", "consent_decision"]
        assert "past" in problems[0].message

        cp.update_plan(
            session=s,
            actor=lead,
            plan_id=plan.id,
            changes={"review_date": TODAY + timedelta(90), "consent_decision": "deny"},
        )
        signed = cp.sign_off(session=s, actor=lead, plan_id=plan.id, today=TODAY)
        assert signed.status == "active"
        assert signed.signed_off_by == lead.member_id and signed.signed_off_at is not None
        # Recording the decision records who recorded it.
        assert signed.consent_recorded_by == lead.member_id and signed.consent_date is not None


def _plan_content(ws: Workspace, plan_id: object) -> tuple[object, ...]:
    """Everything a reader of the plan sees, from the store, in a fresh unit of work."""
    with ws.session() as s:
        plan = s.get(CarePlan, plan_id)
        assert plan is not None
        goals = s.execute(
            select(Goal.id, Goal.description, Goal.deleted).where(Goal.care_plan_id == plan_id)
        ).all()
        actions = s.execute(
            select(
                PlanAction.id, PlanAction.description, PlanAction.goal_id, PlanAction.deleted
            ).where(PlanAction.care_plan_id == plan_id)
        ).all()
        return (plan.status, plan.about_me, plan.version, sorted(goals), sorted(actions))


def test_signed_version_is_immutable(demo_ws: Workspace) -> None:
    """Every way of changing a plan is refused on a signed version, each in its own unit of
    work, and what the signed version says (its goals, actions and fields) never changes."""
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        plan = make_signed_plan(s, lead, patient_without_plan(s), goals=2, actions=2)
        goal = s.scalars(select(Goal).where(Goal.care_plan_id == plan.id)).first()
        action = s.scalars(select(PlanAction).where(PlanAction.care_plan_id == plan.id)).first()
        assert goal is not None and action is not None
    signed = _plan_content(demo_ws, plan.id)
    attempts = {
        "update plan": lambda s: cp.update_plan(
            session=s, actor=lead, plan_id=plan.id, changes={"about_me": "changed"}
        ),
        "add goal": lambda s: cp.add_goal(
            session=s, actor=lead, plan_id=plan.id, description="new"
        ),
        "update goal": lambda s: cp.update_goal(
            session=s, actor=lead, goal_id=goal.id, changes={"description": "x"}
        ),
        "remove goal": lambda s: cp.remove_goal(session=s, actor=lead, goal_id=goal.id),
        "add action": lambda s: cp.add_action(
            session=s, actor=lead, plan_id=plan.id, description="Extra visit", owner_role="gp"
        ),
        "update action": lambda s: cp.update_action(
            session=s, actor=lead, action_id=action.id, changes={"description": "x"}
        ),
        "remove action": lambda s: cp.remove_action(session=s, actor=lead, action_id=action.id),
        "sign off again": lambda s: cp.sign_off(
            session=s, actor=lead, plan_id=plan.id, today=TODAY
        ),
    }
    for name, attempt in attempts.items():
        with pytest.raises(PlanNotEditable, match="new draft"), demo_ws.session() as s:
            attempt(s)
        assert _plan_content(demo_ws, plan.id) == signed, f"{name} changed the signed version"
    assert signed[1].startswith("I was a postwoman")


def test_new_draft_copies_rows_and_sign_off_supersedes(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        v1 = make_signed_plan(s, lead, patient, goals=2, actions=3)
        v2 = cp.start_plan(session=s, actor=lead, patient_id=patient.id)
        assert (v2.version, v2.status, v2.previous_version_id) == (2, "draft", v1.id)
        assert v2.series_id == v1.series_id
        assert cp.start_plan(session=s, actor=lead, patient_id=patient.id).id == v2.id
        goals1 = s.scalars(select(Goal).where(Goal.care_plan_id == v1.id)).all()
        goals2 = s.scalars(select(Goal).where(Goal.care_plan_id == v2.id)).all()
        assert {g.description for g in goals1} == {g.description for g in goals2}
        assert not {g.id for g in goals1} & {g.id for g in goals2}
        actions2 = s.scalars(select(PlanAction).where(PlanAction.care_plan_id == v2.id)).all()
        assert len(actions2) == 3 and {a.goal_id for a in actions2} <= {g.id for g in goals2}

        cp.sign_off(session=s, actor=lead, plan_id=v2.id, today=TODAY)
        assert s.get(CarePlan, v1.id).status == "superseded"
        assert s.get(CarePlan, v2.id).status == "active"

        versions = care_plan_views.history(session=s, actor=lead, patient_id=patient.id)
        assert [(v.version, v.status) for v in versions] == [(2, "active"), (1, "superseded")]
        assert all(lead.name in v.signed_off_by and v.signed_off_at for v in versions)
        assert "signed off" in versions[0].describe() and lead.name in versions[0].describe()


def test_diff_lists_changed_fields_goals_and_actions(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        v1 = make_signed_plan(s, lead, patient, goals=3, actions=2)
        v2 = cp.new_draft(session=s, actor=lead, plan_id=v1.id)
        cp.update_plan(
            session=s,
            actor=lead,
            plan_id=v2.id,
            changes={"what_matters": "Seeing my grandson graduate.", "review_date": TODAY},
        )
        goals = s.scalars(
            select(Goal).where(Goal.care_plan_id == v2.id).order_by(Goal.position)
        ).all()
        cp.update_goal(
            session=s, actor=lead, goal_id=goals[0].id, changes={"achievement_status": "achieved"}
        )
        cp.remove_goal(session=s, actor=lead, goal_id=goals[1].id)
        cp.add_goal(session=s, actor=lead, plan_id=v2.id, description="I want to sleep well.")
        cp.add_action(session=s, actor=lead, plan_id=v2.id, description="Sleep diary for 2 weeks")

        d = care_plan_views.diff(session=s, actor=lead, from_plan_id=v1.id, to_plan_id=v2.id)
        assert (d.from_version, d.to_version) == (1, 2)
        assert [c.field for c in d.fields] == ["what_matters", "review_date"]
        assert d.fields[0].after == "Seeing my grandson graduate."
        assert d.goals_added == ["I want to sleep well."]
        assert d.goals_removed == [goals[1].description]
        assert [c.fields for c in d.goals_changed] == [("progress",)]
        assert d.actions_added == ["Sleep diary for 2 weeks"]
        # The action linked to the removed goal lost its link: a changed action.
        assert any("linked goal" in c.fields for c in d.actions_changed)
        assert d.changed_fields == ["what_matters", "review_date", "goals", "actions"]
        text = "\n".join(d.lines())
        assert "What matters to me" in text and "Goal added: I want to sleep well." in text

        same = care_plan_views.diff(session=s, actor=lead, from_plan_id=v1.id, to_plan_id=v1.id)
        assert same.is_empty and same.lines() == ["No differences."]


def test_concurrent_additions_are_separate_rows(demo_dir: Path, tmp_path: Path) -> None:
    """Two people adding a goal to the same draft at the same time, each on their own laptop
    (offline, the same data): their goals are separate rows with their own ids, so syncing
    keeps both; and on one laptop two sessions' goals are both kept."""
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        nurse = actor_with_role(s, Role.DISTRICT_NURSE)
        plan_id = cp.start_plan(session=s, actor=lead, patient_id=patient_without_plan(s).id).id
    other_laptop = tmp_path / "other-laptop"
    shutil.copytree(demo_dir, other_laptop)
    added = []
    for directory, actor, text in (
        (demo_dir, lead, "Lead's goal"),
        (other_laptop, nurse, "Nurse's goal"),
    ):
        with Workspace.open(directory, PASSPHRASE) as ws, ws.session() as s:
            goal = cp.add_goal(session=s, actor=actor, plan_id=plan_id, description=text)
            added.append((goal.id, goal.position))
    assert added[0][1] == added[1][1]  # the same place in the plan on each laptop...
    assert added[0][0] != added[1][0]  # ...but two rows: neither overwrites the other
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        with ws.session() as s1, ws.session() as s2:
            cp.add_goal(session=s1, actor=lead, plan_id=plan_id, description="Second goal")
            s1.commit()
            cp.add_goal(session=s2, actor=nurse, plan_id=plan_id, description="Third goal")
        with ws.session() as s:
            texts = s.scalars(select(Goal.description).where(Goal.care_plan_id == plan_id)).all()
    assert sorted(texts) == ["Lead's goal", "Second goal", "Third goal"]


def test_sign_off_needs_a_permitted_role_or_a_team_grant(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        matron = actor_with_role(s, Role.COMMUNITY_MATRON)
        social_prescriber = actor_with_role(s, Role.SOCIAL_PRESCRIBER)
        plan = cp.start_plan(session=s, actor=lead, patient_id=patient_without_plan(s).id)
        cp.add_goal(session=s, actor=lead, plan_id=plan.id, description="Stay at home")
        cp.update_plan(
            session=s,
            actor=lead,
            plan_id=plan.id,
            changes={"review_date": TODAY + timedelta(30), "consent_decision": "permit"},
        )
    with pytest.raises(PermissionDenied), demo_ws.session() as s:
        cp.sign_off(session=s, actor=matron, plan_id=plan.id, today=TODAY)
    with pytest.raises(PermissionDenied), demo_ws.session() as s:
        cp.update_plan(
            session=s, actor=social_prescriber, plan_id=plan.id, changes={"about_me": "x"}
        )
    with demo_ws.session() as s:
        assert s.get(CarePlan, plan.id).status == "draft"
        denials = s.scalars(
            select(AuditEvent.detail).where(AuditEvent.entity_type == "permission")
        ).all()
        assert "denied:sign_off_plan" in denials and "denied:edit_care_plan" in denials
        # The team allows its community matrons to sign off.
        team = s.get(Team, next(iter(matron.team_ids)))
        team.config = {"role_permissions": {"community_matron": ["sign_off_plan"]}}
    with demo_ws.session() as s:
        assert cp.can(s, matron, Permission.SIGN_OFF_PLAN)
        assert cp.sign_off(session=s, actor=matron, plan_id=plan.id, today=TODAY).status == "active"


def test_people_outside_the_team_caseload_are_refused(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        other_team = s.scalars(select(Team).where(Team.id.not_in(lead.team_ids))).first()
        stranger = patient_without_plan(s, other_team.id)
    with pytest.raises(PermissionDenied, match="outside your caseload"), demo_ws.session() as s:
        cp.start_plan(session=s, actor=lead, patient_id=stranger.id)


def test_non_clinical_roles_cannot_see_or_edit_internal_notes(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        plan = make_signed_plan(s, lead, patient_without_plan(s))
        draft = cp.new_draft(session=s, actor=lead, plan_id=plan.id)
        social_worker = actor_with_role(s, Role.SOCIAL_WORKER)
        cp.update_plan(
            session=s, actor=social_worker, plan_id=draft.id, changes={"about_me": "Updated"}
        )
        view = care_plan_views.plan_view(session=s, actor=social_worker, plan_id=draft.id)
        assert view.clinical_redacted and view.clinical_summary == "" and view.medicines_notes == ""
        assert (
            "INTERNAL"
            in care_plan_views.plan_view(session=s, actor=lead, plan_id=draft.id).clinical_summary
        )
    with pytest.raises(PermissionDenied), demo_ws.session() as s:
        cp.update_plan(
            session=s, actor=social_worker, plan_id=draft.id, changes={"clinical_summary": "x"}
        )
    with demo_ws.session() as s:
        assert s.get(CarePlan, draft.id).about_me == "Updated"
        assert s.get(CarePlan, draft.id).clinical_summary.startswith("INTERNAL")


def test_due_for_review_is_derived_from_review_date(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        plan = make_signed_plan(s, lead, patient_without_plan(s))
        review = plan.review_date
        due_ids = {d.plan_id for d in cp.due_for_review(session=s, actor=lead, today=review)}
        assert plan.id in due_ids
        before = cp.due_for_review(session=s, actor=lead, today=review - timedelta(days=1))
        assert plan.id not in {d.plan_id for d in before}
        soon = cp.due_for_review(
            session=s, actor=lead, today=review - timedelta(days=5), within_days=7
        )
        assert plan.id in {d.plan_id for d in soon}
        late = cp.due_for_review(session=s, actor=lead, today=review + timedelta(days=3))
        assert next(d for d in late if d.plan_id == plan.id).days_overdue == 3
        view = care_plan_views.plan_view(session=s, actor=lead, plan_id=plan.id)
        from int_desk.domain.care_plan import review_state, status_label

        assert status_label(view.status, view.review_date, review) == "Active - due for review"
        assert review_state(view.status, view.review_date, review + timedelta(3)) == (
            "review overdue by 3 days"
        )


def test_every_change_is_audited_without_free_text(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        make_signed_plan(s, lead, patient, goals=2, actions=3)
        events = s.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
        # start, one update, 2 goals, 3 actions, sign-off, the GP notification it queues
        assert [e.action for e in events] == ["C", "U", "C", "C", "C", "C", "C", "S", "C"]
        assert events[-1].entity_type == "gp_notification"
        assert {e.actor_id for e in events} == {lead.member_id}
        assert {e.patient_id for e in events} == {patient.id}
        for e in events:
            assert patient.family_name not in e.detail and "postwoman" not in e.detail
        assert audit.verify(s).intact
