"""The caseload query, its derived index, saved views and the headless CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from int_desk.cli import main as cli_main
from int_desk.domain.errors import NotFound, PermissionDenied, ValidationError
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import ContactKind, FlagCode, Role
from int_desk.services import caseload as cl
from int_desk.services import caseload_views
from int_desk.services import patient_actions as pa
from int_desk.services.identity import current_actor
from int_desk.store.models import Cohort, Patient, Referral
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role, team_patient_not_referred

TODAY = london_today()


def _rows(ws: Workspace, f: cl.CaseloadFilter) -> list[cl.CaseloadRow]:
    with ws.session() as s:
        return cl.caseload(session=s, actor=current_actor(s), filters=f, today=TODAY)


def test_search_by_nhs_number_with_or_without_spaces_name_and_postcode(demo_ws: Workspace) -> None:
    everyone = _rows(demo_ws, cl.CaseloadFilter())
    assert len(everyone) > 50
    target = everyone[len(everyone) // 2]
    for typed in (target.nhs_number, target.nhs_display, target.nhs_display[:7], " 999-"):
        found = _rows(demo_ws, cl.CaseloadFilter(search=typed))
        assert target.patient_id in {r.patient_id for r in found}, typed
    exact = _rows(demo_ws, cl.CaseloadFilter(search=target.nhs_display))
    assert [r.patient_id for r in exact] == [target.patient_id]
    by_pc = _rows(demo_ws, cl.CaseloadFilter(search=target.postcode.replace(" ", "").lower()))
    assert target.patient_id in {r.patient_id for r in by_pc}
    assert all(r.postcode == target.postcode for r in by_pc)
    by_name = _rows(
        demo_ws, cl.CaseloadFilter(search=f"{target.given_name[:3]} {target.family_name}")
    )
    assert target.patient_id in {r.patient_id for r in by_name}
    assert _rows(demo_ws, cl.CaseloadFilter(search="Qqqzzzx")) == []


def test_accents_and_case_do_not_matter_in_search(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        pid = cl.caseload(session=s, actor=actor, filters=cl.CaseloadFilter(), limit=1)[
            0
        ].patient_id
        s.get(Patient, pid).given_name = "Zoë"
        s.get(Patient, pid).family_name = "Ó'Brien-Łukasz"
    for typed in ("zoe", "ZOË", "o'brien", "lukasz zo", "Brien"):
        ids = {r.patient_id for r in _rows(demo_ws, cl.CaseloadFilter(search=typed))}
        assert pid in ids, typed


def test_filters_combine_and_sorts_order(demo_ws: Workspace) -> None:
    all_rows = _rows(demo_ws, cl.CaseloadFilter())
    high = _rows(demo_ws, cl.CaseloadFilter(priorities=["high"]))
    housebound = _rows(demo_ws, cl.CaseloadFilter(flags=["housebound"]))
    both = _rows(demo_ws, cl.CaseloadFilter(priorities=["high"], flags=["housebound"]))
    assert both and len(both) < min(len(high), len(housebound))
    assert {r.key for r in both} == {r.key for r in high} & {r.key for r in housebound}
    assert all(r.priority.value == "high" and FlagCode.HOUSEBOUND in r.flags for r in both)
    overdue = _rows(demo_ws, cl.CaseloadFilter(review_overdue=True))
    assert overdue and all(r.review_overdue(TODAY) for r in overdue)
    no_plan = _rows(demo_ws, cl.CaseloadFilter(plan_status=["none"]))
    assert no_plan and all(r.plan_status in ("none", "closed") for r in no_plan)
    names = [cl.fold(r.family_name) for r in all_rows]
    assert names == sorted(names)
    by_age = _rows(demo_ws, cl.CaseloadFilter(sort="age", descending=True))
    assert [r.date_of_birth for r in by_age] == sorted(r.date_of_birth for r in by_age)
    by_tasks = _rows(demo_ws, cl.CaseloadFilter(sort="tasks", descending=True))
    assert [r.open_tasks for r in by_tasks] == sorted(
        (r.open_tasks for r in by_tasks), reverse=True
    )
    with demo_ws.session() as s:
        cohort = s.scalars(select(Cohort).where(Cohort.name == "Post-discharge")).one()
    in_cohort = _rows(demo_ws, cl.CaseloadFilter(cohort_ids=[cohort.id.hex]))
    assert in_cohort and all("Post-discharge" in r.cohorts for r in in_cohort)
    with pytest.raises(ValidationError):
        _rows(demo_ws, cl.CaseloadFilter(sort="shoe size"))


def test_actions_show_up_through_the_triggers(demo_ws: Workspace) -> None:
    first = _rows(demo_ws, cl.CaseloadFilter(sort="last_contact", descending=True))
    target = first[-1]
    with demo_ws.session() as s:
        actor = current_actor(s)
        pa.add_contact(session=s, actor=actor, patient_id=target.patient_id,
                       kind=ContactKind.PHONE_CALL, text="Rang to check on falls")  # fmt: skip
        pa.allocate_task(session=s, actor=actor, patient_id=target.patient_id,
                         description="Visit", due_on=TODAY + timedelta(days=2),
                         owner_member_id=actor.member_id)  # fmt: skip
        pa.set_flag(session=s, actor=actor, patient_id=target.patient_id,
                    code=FlagCode.SAFEGUARDING, active=True)  # fmt: skip
    after = _rows(demo_ws, cl.CaseloadFilter(sort="last_contact", descending=True))
    row = after[0]
    assert row.patient_id == target.patient_id and row.key == target.key  # key is stable
    assert row.open_tasks == target.open_tasks + 1
    assert FlagCode.SAFEGUARDING in row.flags
    mine = _rows(demo_ws, cl.CaseloadFilter(flags=["safeguarding"]))
    assert target.patient_id in {r.patient_id for r in mine}


def test_a_referral_written_by_anyone_refreshes_a_vcse_workers_cached_result(
    demo_ws: Workspace,
) -> None:
    """Results are cached per index generation: a referral (even raw SQL, as sync writes it)
    must bump it, or a VCSE worker keeps seeing the list from before it arrived."""
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        newcomer = team_patient_not_referred(s, vcse)
        before = cl.query_keys(session=s, actor=vcse, filters=cl.CaseloadFilter(membership="all"))
        assert before  # cached now
        s.add(Referral(patient_id=newcomer, service="vcse", reason="Befriending",
                       referred_on=TODAY, referred_by=vcse.member_id,
                       to_member_id=vcse.member_id, status="sent", outcome=""))  # fmt: skip
    with demo_ws.session() as s:
        after = cl.query_keys(session=s, actor=vcse, filters=cl.CaseloadFilter(membership="all"))
        shown = {r.patient_id for r in cl.fetch_rows(session=s, keys=after).values()}
    assert newcomer in shown and len(after) == len(before) + 1


def test_save_view_needs_the_permission_the_window_checks(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        assert not caseload_views.can_save_views(session=s, actor=vcse)
        assert caseload_views.can_save_views(session=s, actor=current_actor(s))
    with demo_ws.session() as s, pytest.raises(PermissionDenied):
        caseload_views.save_view(session=s, actor=vcse, name="Mine", filters=cl.CaseloadFilter())


def test_index_heals_itself_when_a_trigger_is_lost(demo_ws: Workspace) -> None:
    target = _rows(demo_ws, cl.CaseloadFilter())[0]
    with demo_ws.session() as s:
        s.connection().exec_driver_sql("DROP TRIGGER caseload_dirty_flag_insert")
        actor = current_actor(s)
        pa.set_flag(session=s, actor=actor, patient_id=target.patient_id,
                    code=FlagCode.END_OF_LIFE, active=True)  # fmt: skip
    row = next(r for r in _rows(demo_ws, cl.CaseloadFilter()) if r.patient_id == target.patient_id)
    assert FlagCode.END_OF_LIFE in row.flags


def test_discharge_moves_person_to_recently_discharged(demo_ws: Workspace) -> None:
    target = _rows(demo_ws, cl.CaseloadFilter())[3]
    with demo_ws.session() as s:
        actor = current_actor(s)
        from int_desk.store.models import CohortMembership

        for m in s.scalars(
            select(CohortMembership).where(
                CohortMembership.patient_id == target.patient_id,
                CohortMembership.discharged_on.is_(None),
            )
        ):
            pa.discharge_from_cohort(session=s, actor=actor, membership_id=m.id, reason="Moved")
        recent = caseload_views.load_view(session=s, actor=actor, name="recently discharged")
    assert target.patient_id not in {r.patient_id for r in _rows(demo_ws, cl.CaseloadFilter())}
    assert target.patient_id in {r.patient_id for r in _rows(demo_ws, recent)}


def test_saved_views_round_trip_and_built_ins(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        names = [v.name for v in caseload_views.list_views(session=s, actor=actor)]
        assert names[:4] == [
            "My caseload",
            "Reviews overdue",
            "Recently discharged",
            "No care plan",
        ]
        f = cl.CaseloadFilter(priorities=["high"], flags=["lives_alone"], sort="age",
                              descending=True, search="not saved")  # fmt: skip
        caseload_views.save_view(session=s, actor=actor, name="High risk alone", filters=f)
        with pytest.raises(ValidationError):
            caseload_views.save_view(session=s, actor=actor, name="My caseload", filters=f)
    with demo_ws.session() as s:
        actor = current_actor(s)
        back = caseload_views.load_view(session=s, actor=actor, name="high risk ALONE")
        assert back.priorities == ["high"] and back.flags == ["lives_alone"]
        assert back.sort == "age" and back.descending and back.search == ""
        mine = caseload_views.load_view(session=s, actor=actor, name="My caseload")
        assert mine.lead_member_ids == ["me"]
        caseload_views.delete_view(session=s, actor=actor, name="High risk alone")
        with pytest.raises(NotFound):
            caseload_views.load_view(session=s, actor=actor, name="High risk alone")
    my = _rows(demo_ws, mine)
    assert my and all(r.lead_member_id == actor.member_id for r in my)


# --- CLI -------------------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli_main(list(args))
    return code, capsys.readouterr().out


def test_cli_caseload_prints_the_same_rows(
    demo_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    code, out = _cli(capsys, "caseload", "--workspace", str(demo_dir), "--format", "json")
    assert code == 0
    records = json.loads(out)
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        rows = _rows(ws, cl.CaseloadFilter())
    assert [r["nhs_number"] for r in records] == [r.nhs_display for r in rows]

    code, out = _cli(capsys, "caseload", "--workspace", str(demo_dir), "--view",
                     "Reviews overdue", "--format", "csv")  # fmt: skip
    body = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and body and all(r["care_plan"] == "Review overdue" for r in body)
    assert all("REVIEW OVERDUE" in r["attention"] for r in body)

    code, out = _cli(capsys, "caseload", "--workspace", str(demo_dir), "--cohort",
                     "post-discharge", "--team", "Bicester INT")  # fmt: skip
    assert code == 0 and out.strip().endswith("people") and "Post-disch" in out

    code = cli_main(["caseload", "--workspace", str(demo_dir), "--view", "Nope"])
    assert code == 2


def test_search_ignores_punctuation_in_names_and_finds_a_date_of_birth(
    demo_ws: Workspace,
) -> None:
    with demo_ws.session() as s:
        rows = cl.caseload(session=s, actor=current_actor(s), filters=cl.CaseloadFilter(), limit=2)
        obrien, oconnor = (s.get(Patient, r.patient_id) for r in rows)
        obrien.family_name, obrien.given_name = "O'Brien", "Siobhán"
        oconnor.family_name, oconnor.date_of_birth = "O’Connor-Smith", date(1930, 1, 10)
    for typed, who in (("obrien", obrien.id), ("o'brien", obrien.id), ("O’Brien", obrien.id),
                       ("obrien siob", obrien.id), ("oconnor", oconnor.id),
                       ("oconnorsmith", oconnor.id), ("o'connor-smith", oconnor.id)):  # fmt: skip
        assert who in {r.patient_id for r in _rows(demo_ws, cl.CaseloadFilter(search=typed))}, typed
    for typed in ("10/01/1930", "10-Jan-1930", "10.01.1930", "1930-01-10", "10 January 1930"):
        found = _rows(demo_ws, cl.CaseloadFilter(search=typed))
        assert oconnor.id in {r.patient_id for r in found}, typed
        assert all(r.date_of_birth == date(1930, 1, 10) for r in found), typed
    assert _rows(demo_ws, cl.CaseloadFilter(search="01/01/1901")) == []  # no one born then
