"""Setting up a standalone team in its workspace: places, teams with the phone and email care
plans print, GP practices by ODS code, partner organisations, members and membership. Every
change is permission-checked and audited; bad input gets a clear message and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from int_desk.domain import reference as ref
from int_desk.domain.errors import PermissionDenied, ValidationError
from int_desk.domain.vocab import OrganisationKind, Role
from int_desk.services import team_setup as ts
from int_desk.services.first_run import create_local_workspace
from int_desk.services.identity import actor_for, current_actor
from int_desk.store.models import AuditEvent, Organisation
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with create_local_workspace(
        tmp_path / "ws", PASSPHRASE, member_name="Ann Example", role=Role.CARE_COORDINATOR,
        team_name="Testbury INT",
    ) as workspace:  # fmt: skip
        yield workspace


def _audits(ws: Workspace, entity: str) -> list[tuple[str, str]]:
    with ws.session() as s:
        return [
            (a, d)
            for a, d in s.execute(
                select(AuditEvent.action, AuditEvent.detail)
                .where(AuditEvent.entity_type == entity)
                .order_by(AuditEvent.seq)
            )
        ]


def test_the_person_who_sets_up_a_standalone_team_administers_it(ws: Workspace) -> None:
    with ws.session() as s:
        actor = current_actor(s)
        d = ts.directory(s)
        (team,) = d.teams
        ts.save_team(
            session=s, actor=actor, team_id=team.id, name=team.name, place_id=team.place_id,
            neighbourhood="Testbury PCN", phone="01632 960 555", email="team@nhs.example",
        )  # fmt: skip
        practice = ts.save_organisation(
            session=s, actor=actor, organisation_id=None, name="Park Surgery",
            kind=OrganisationKind.GP_PRACTICE, code="k84001",
        )  # fmt: skip
        council = ts.save_organisation(
            session=s, actor=actor, organisation_id=None, name="Testshire County Council",
            kind="council",
        )  # fmt: skip
        nurse = ts.save_member(
            session=s, actor=actor, member_id=None, name="Dee Nurse", role="District nurse",
        )  # fmt: skip
        worker = ts.save_member(
            session=s, actor=actor, member_id=None, name="Sam Social", role=Role.SOCIAL_WORKER,
            organisation_id=council,
        )  # fmt: skip
        for m in (nurse, worker):
            ts.set_membership(session=s, actor=actor, team_id=team.id, member_id=m, member=True)
    assert practice == ref.practice_id("K84001")
    with ws.session() as s:
        d = ts.directory(s)
    (team,) = d.teams
    assert (team.phone, team.email, team.neighbourhood) == (
        "01632 960 555",
        "team@nhs.example",
        "Testbury PCN",
    )
    assert [p.label for p in d.practices] == ["Park Surgery (K84001)"]
    assert {m.name: m.organisation for m in d.team_members(team.id)} == {
        "Ann Example": "",
        "Dee Nurse": "",
        "Sam Social": "Testshire County Council (Council)",
    }
    assert ("U", "fields=email,neighbourhood,phone") in _audits(ws, "team")
    assert [a for a, _ in _audits(ws, "team_membership")] == ["C", "C"]


def test_bad_input_is_refused_with_a_clear_message_and_nothing_changes(ws: Workspace) -> None:
    with ws.session() as s:
        actor = current_actor(s)
        ts.save_organisation(
            session=s, actor=actor, organisation_id=None, name="Park Surgery",
            kind=OrganisationKind.GP_PRACTICE, code="K84001",
        )  # fmt: skip
    cases = [
        (dict(name="Green Surgery", kind="gp_practice", code="K84001"), "already the code of"),
        (dict(name="Green Surgery", kind="gp_practice", code="84001"), "a letter and five digits"),
        (dict(name="  ", kind="gp_practice", code="K84009"), "Enter the organisation's name"),
        (dict(name="Green Surgery", kind="gp_practice", code=None), "Enter the practice's ODS"),
    ]
    for values, message in cases:
        with pytest.raises(ValidationError, match=message), ws.session() as s:
            ts.save_organisation(session=s, actor=current_actor(s), organisation_id=None, **values)
    with ws.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 1
        team = ts.directory(s).teams[0]
        with pytest.raises(ValidationError, match="phone number"):
            ts.save_team(
                session=s, actor=current_actor(s), team_id=team.id, name=team.name,
                place_id=team.place_id, phone="call me",
            )  # fmt: skip
    with pytest.raises(ValidationError, match="email address"), ws.session() as s:
        ts.save_member(
            session=s, actor=current_actor(s), member_id=None, name="X", role="gp", email="x@"
        )


def test_a_team_member_without_the_grant_may_not_change_the_set_up(ws: Workspace) -> None:
    with ws.session() as s:
        admin = current_actor(s)
        team = ts.directory(s).teams[0]
        nurse_id = ts.save_member(
            session=s, actor=admin, member_id=None, name="Dee Nurse", role="district_nurse"
        )
        ts.set_membership(session=s, actor=admin, team_id=team.id, member_id=nurse_id, member=True)
    with pytest.raises(PermissionDenied, match="manage team members"), ws.session() as s:
        ts.save_organisation(
            session=s, actor=actor_for(s, nurse_id), organisation_id=None, name="Park Surgery",
            kind="gp_practice", code="K84001",
        )  # fmt: skip
    assert ("E", "denied:manage_members") in _audits(ws, "permission")
