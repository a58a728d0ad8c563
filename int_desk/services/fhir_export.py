"""FHIR R4 export of care plans: one person as a Bundle file, a cohort or team as Bulk Data NDJSON.

    export_person(session=s, actor=a, nhs_number="9990001234", out=Path("p.json"))
    export_group(session=s, actor=a, cohort_id=c, out_dir=Path("out/"))     # or team_id=t

Same rules as the PDF export (services/care_plan_export.py): EXPORT_PLAN is needed; clinical
fields go out only to roles with VIEW_CLINICAL; a person leaves only when their signed-off
(active) plan records consent to share (``permit``). A single person without it is refused;
a cohort or team export leaves them out and counts them. Every person exported is audited
(action E), and files appear whole or not at all (temp file / staging folder, then rename).

Rows are read in batches with Core selects and mapped by ``int_desk.fhir.mapping`` from the same
wire dicts the endpoint stores, so the workspace and the endpoint export the same resources.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.care_plan import ConsentNotGiven
from int_desk.domain.errors import Interrupted, NotFound
from int_desk.domain.ids import new_id
from int_desk.domain.nhs_number import normalise
from int_desk.domain.permissions import CLINICAL_FIELDS, Permission
from int_desk.domain.vocab import AuditAction, CarePlanStatus
from int_desk.fhir import mapping
from int_desk.reports import pdf_base
from int_desk.services import access
from int_desk.store import audit
from int_desk.store import models as m
from int_desk.wire import schema

log = logging.getLogger(__name__)

BATCH = 500
STAGING_PREFIX = ".int-desk-fhir-"
NDJSON_SUFFIX = ".ndjson"


def _dashed(stored: str) -> str:
    """A UUID column's stored 32 hex digits in its wire (canonical) form."""
    h = stored.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _instant(stored: str) -> str:
    """A UTC datetime column's stored text in its wire form: the same text when it is already
    canonical (``2026-12-06T08:00:00.000000+00:00``, as ``UTCDateTime`` writes it)."""
    if len(stored) == 32 and stored.endswith("+00:00"):
        return stored
    value = datetime.fromisoformat(stored)
    return str(schema.to_wire("datetime", value if value.tzinfo else value.replace(tzinfo=UTC)))


def _day(stored: str) -> str:
    return stored if len(stored) == 10 else date.fromisoformat(stored[:10]).isoformat()


_FROM_STORED = {"uuid": _dashed, "datetime": _instant, "date": _day}


def _select(session: Session, model: Any, *where: Any) -> list[dict[str, Any]]:
    """Live rows of ``model`` as wire dicts with ``id``, the same as ``schema.row_to_wire``
    makes of them (tests/test_fhir_export_bulk.py compares the two for every entity).

    An export reads hundreds of thousands of rows, and a mapping object, a UUID or datetime
    object and a call per value were a third of its time: rows are fetched whole as tuples,
    UUIDs, dates and times as their stored text, turned into wire form by string operations."""
    table = model.__table__
    columns = schema.ENTITIES[table.name].columns
    kinds = {name: c.kind for name, c in columns.items() if c.kind in _FROM_STORED}
    kinds["id"] = "uuid"
    query = select(
        *(type_coerce(c, String).label(c.name) if c.name in kinds else c for c in table.c)
    ).where(table.c.deleted.is_(False), *where)
    result = session.execute(query)
    index = {key: n for n, key in enumerate(result.keys())}
    plain = [(name, index[name]) for name in columns if name not in kinds]
    text = [(name, index[name], _FROM_STORED[kind]) for name, kind in kinds.items()]
    out = []
    for row in result.all():
        data = {name: row[n] for name, n in plain}
        for name, n, convert in text:
            data[name] = None if row[n] is None else convert(row[n])
        out.append(data)
    return out


def _blank_clinical(entity: str, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, **{f: "" for f in CLINICAL_FIELDS.get(entity, ())}}


@dataclass
class _Reference:
    """Rows many people share: members, practices, team names (read once per export)."""

    members: dict[str, dict[str, Any]]
    practices: dict[str, dict[str, Any]]
    teams: dict[str, str]

    @classmethod
    def load(cls, session: Session) -> _Reference:
        members = {r["id"]: r for r in _select(session, m.Member)}
        orgs = {r["id"]: r for r in _select(session, m.Organisation)}
        teams = {r["id"]: r["name"] for r in _select(session, m.Team)}
        return cls(members, orgs, teams)


def person_data(
    session: Session, patient_ids: list[uuid.UUID], *, clinical: bool
) -> Iterator[mapping.PersonData]:
    """PersonData for each patient (in the order given), reading in batches of ``BATCH``."""
    ref = _Reference.load(session)
    for start in range(0, len(patient_ids), BATCH):
        ids = patient_ids[start : start + BATCH]
        yield from _batch(session, ids, ref, clinical=clinical)


def _batch(
    session: Session, ids: list[uuid.UUID], ref: _Reference, *, clinical: bool
) -> Iterator[mapping.PersonData]:
    def by_patient(model: Any, *where: Any) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in _select(session, model, model.__table__.c.patient_id.in_(ids), *where):
            grouped[row["patient_id"]].append(row)
        return grouped

    patients = _select(session, m.Patient, m.Patient.__table__.c.id.in_(ids))
    plans = {
        pid: rows[-1]
        for pid, rows in by_patient(
            m.CarePlan, m.CarePlan.__table__.c.status == CarePlanStatus.ACTIVE.value
        ).items()
    }
    plan_ids = [uuid.UUID(p["id"]) for p in plans.values()]
    goals: dict[str, list[dict[str, Any]]] = defaultdict(list)
    actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if plan_ids:
        for row in _select(session, m.Goal, m.Goal.__table__.c.care_plan_id.in_(plan_ids)):
            goals[row["care_plan_id"]].append(row)
        for row in _select(
            session, m.PlanAction, m.PlanAction.__table__.c.care_plan_id.in_(plan_ids)
        ):
            actions[row["care_plan_id"]].append(row)
    flags = by_patient(m.Flag, m.Flag.__table__.c.active.is_(True))
    tasks = by_patient(m.Task)
    referrals = by_patient(m.Referral)
    participants = by_patient(m.CareTeamParticipant)
    memberships = by_patient(
        m.CohortMembership, m.CohortMembership.__table__.c.discharged_on.is_(None)
    )
    cohorts = {r["id"]: r for r in _select(session, m.Cohort)}
    order = {str(i): n for n, i in enumerate(ids)}
    for p in sorted(patients, key=lambda r: order[r["id"]]):
        pid = p["id"]
        plan = plans.get(pid)
        if not clinical:
            p = _blank_clinical("patient", p)
            plan = _blank_clinical("care_plan", plan) if plan else None
        current = memberships.get(pid, [])
        team_names = sorted(
            {
                ref.teams.get(cohorts[c["cohort_id"]]["team_id"], "")
                for c in current
                if c["cohort_id"] in cohorts
            }
            - {""}
        )
        lead = next((c["lead_member_id"] for c in current if c.get("lead_member_id")), None)
        yield mapping.PersonData(
            patient=p,
            practice=ref.practices.get(p.get("practice_id") or ""),
            plan=plan,
            goals=goals.get(plan["id"], []) if plan else [],
            actions=actions.get(plan["id"], []) if plan else [],
            flags=flags.get(pid, []),
            tasks=tasks.get(pid, []),
            referrals=referrals.get(pid, []),
            participants=participants.get(pid, []),
            lead_member_id=lead or (plan or {}).get("lead_member_id"),
            team_names=team_names,
            members=ref.members,
        )


def shareable(person: mapping.PersonData) -> bool:
    return bool(person.plan and person.plan.get("consent_decision") == "permit")


# --- one person --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonExport:
    path: Path
    patient_id: uuid.UUID
    resources: int


def export_person(
    *,
    session: Session,
    actor: Actor,
    nhs_number: str,
    out: Path,
    now: datetime | None = None,
) -> PersonExport:
    """One person's Bundle (collection) written to ``out``; refused without consent to share."""
    access.require(session, actor, Permission.EXPORT_PLAN)
    digits = normalise(nhs_number)
    pid = session.scalar(
        select(m.Patient.id).where(m.Patient.nhs_number == digits, m.Patient.deleted.is_(False))
    )
    if pid is None:
        raise NotFound("No patient with that NHS number in this workspace.")
    if not access.in_scope(session, actor, pid):
        raise access.deny(
            session, actor, "export a person outside your caseload", patient_id=pid,
            permission=Permission.EXPORT_PLAN,
        )  # fmt: skip
    clinical = access.can(session, actor, Permission.VIEW_CLINICAL)
    person = next(person_data(session, [pid], clinical=clinical))
    if person.plan is None:
        raise NotFound("That person has no signed-off (active) care plan to export.")
    if not shareable(person):
        state = "declined" if person.plan.get("consent_decision") == "deny" else "not recorded"
        raise ConsentNotGiven(
            f"Consent to share this plan was {state}; it cannot be exported as FHIR."
        )
    resources = mapping.person_resources(person)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    bundle = mapping.file_bundle(resources, bundle_id=str(new_id()), timestamp=stamp)
    _audit(session, actor, person, detail="fhir bundle")
    path = pdf_base.write_atomic(Path(out), json.dumps(bundle, indent=1).encode("utf-8"))
    log.info("exported FHIR bundle for patient %s (%d resources)", pid, len(resources))
    return PersonExport(path, pid, len(resources))


def _audit(session: Session, actor: Actor, person: mapping.PersonData, *, detail: str) -> None:
    audit.record(session, **_audit_entry(actor, person, detail=detail))


def _audit_entry(actor: Actor, person: mapping.PersonData, *, detail: str) -> dict[str, Any]:
    plan = person.plan or {}
    return {
        "actor_id": actor.member_id,
        "action": AuditAction.EXECUTE,
        "entity_type": "care_plan",
        "entity_id": uuid.UUID(plan["id"]) if plan.get("id") else None,
        "patient_id": uuid.UUID(person.patient["id"]),
        "detail": f"export format=fhir-r4 {detail}",
    }


# --- a cohort or team --------------------------------------------------------------------------


@dataclass
class GroupExport:
    out_dir: Path
    people: int = 0
    skipped_no_consent: int = 0
    files: dict[str, int] = field(default_factory=dict)  # resource type -> count


def group_patients(
    session: Session, actor: Actor, *, cohort_id: uuid.UUID | None, team_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """Current (not discharged) members of the cohort, or of every cohort of the team."""
    query = (
        select(m.CohortMembership.patient_id)
        .join(m.Cohort, m.Cohort.id == m.CohortMembership.cohort_id)
        .where(
            m.CohortMembership.deleted.is_(False),
            m.CohortMembership.discharged_on.is_(None),
            m.Cohort.deleted.is_(False),
        )
    )
    if cohort_id is not None:
        cohort = session.get(m.Cohort, cohort_id)
        if cohort is None or cohort.deleted:
            raise NotFound("That cohort is not in this workspace.")
        team_id = cohort.team_id
        query = query.where(m.Cohort.id == cohort_id)
    elif team_id is not None:
        query = query.where(m.Cohort.team_id == team_id)
    if team_id not in actor.team_ids:
        raise access.deny(
            session, actor, "export another team's people", permission=Permission.EXPORT_PLAN
        )
    return sorted(set(session.scalars(query)), key=str)


def with_consent(session: Session, patient_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Those of ``patient_ids`` with a signed-off (active) plan recording consent to share, in
    the order given: the only people a group export reads in full (one query per batch)."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(patient_ids), BATCH):
        found.update(
            session.scalars(
                select(m.CarePlan.patient_id).where(
                    m.CarePlan.patient_id.in_(patient_ids[start : start + BATCH]),
                    m.CarePlan.status == CarePlanStatus.ACTIVE.value,
                    m.CarePlan.consent_decision == "permit",
                    m.CarePlan.deleted.is_(False),
                )
            )
        )
    return [pid for pid in patient_ids if pid in found]


def export_group(
    *,
    session: Session,
    actor: Actor,
    out_dir: Path,
    cohort_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    now: datetime | None = None,
) -> GroupExport:
    """NDJSON per resource type plus a Bulk Data style ``manifest.json`` in ``out_dir``.

    Shared resources (practices, practitioners) are written once. Files are written into a
    staging folder and moved in only when all are complete; cancel or error leaves none.
    """
    access.require(session, actor, Permission.EXPORT_PLAN)
    patient_ids = group_patients(session, actor, cohort_id=cohort_id, team_id=team_id)
    clinical = access.can(session, actor, Permission.VIEW_CLINICAL)
    # Only people whose active plan records consent are read in full; the rest are counted.
    candidates = with_consent(session, patient_ids)
    total = len(candidates)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
    result = GroupExport(out_dir, skipped_no_consent=len(patient_ids) - total)
    moved: list[Path] = []
    handles: dict[str, Any] = {}
    written: set[str] = set()  # practices and practitioners already written
    entries: list[dict[str, Any]] = []  # audit entries, appended in one run at the end
    batch_id = new_id()
    try:
        for n, person in enumerate(person_data(session, candidates, clinical=clinical)):
            if is_cancelled and is_cancelled():
                raise Interrupted("Export cancelled; no files were kept.")
            if progress and n % 200 == 0:
                progress(n, total)
            if not shareable(person):  # (another active version without consent)
                result.skipped_no_consent += 1
                continue
            for rtype, resource in mapping.by_type(mapping.person_resources(person, written)):
                fh = handles.get(rtype)
                if fh is None:
                    fh = handles[rtype] = open(  # noqa: SIM115 - closed in finally
                        staging / f"{rtype}{NDJSON_SUFFIX}", "wb"
                    )
                fh.write(orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE))
                result.files[rtype] = result.files.get(rtype, 0) + 1
            entries.append(_audit_entry(actor, person, detail=f"ndjson batch={batch_id}"))
            result.people += 1
        for fh in handles.values():
            fh.close()
        stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        manifest = {
            "transactionTime": stamp,
            "request": "int-desk export-fhir",
            "requiresAccessToken": False,
            "output": [
                {"type": t, "url": f"{t}{NDJSON_SUFFIX}", "count": c}
                for t, c in sorted(result.files.items())
            ],
            "error": [],
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        entries.append(
            {
                "actor_id": actor.member_id,
                "action": AuditAction.EXECUTE,
                "entity_type": "cohort" if cohort_id else "team",
                "entity_id": cohort_id or team_id,
                "detail": (
                    f"export format=fhir-ndjson batch={batch_id} people={result.people} "
                    f"skipped_no_consent={result.skipped_no_consent}"
                ),
            }
        )
        audit.record_many(session, entries)  # one per person exported, then the batch's
        for path in sorted(staging.iterdir()):
            if os.name == "posix":
                os.chmod(path, 0o600)
            final = out_dir / path.name
            os.replace(path, final)
            moved.append(final)
    except BaseException:
        for final in moved:
            final.unlink(missing_ok=True)
        raise
    finally:
        for fh in handles.values():
            fh.close()
        shutil.rmtree(staging, ignore_errors=True)
    if progress:
        progress(total, total)
    log.info(
        "exported FHIR NDJSON: %d people, %d skipped without consent",
        result.people,
        result.skipped_no_consent,
    )
    return result
