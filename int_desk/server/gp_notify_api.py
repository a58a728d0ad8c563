"""GP notifications for a practice's token: FHIR Communication search and the GP summary PDF.

    GET /fhir/R4/Communication?recipient=https://fhir.nhs.uk/Id/ods-organization-code|X90000
        [&_lastUpdated=gt2026-12-06T10:00:00Z]
    GET /fhir/R4/Binary/{communication id}          the one-page GP summary (application/pdf)

A practice's token (a device token of the practice's login: kind ``practice``, scope
``gp_notifications``, one ODS code; ``int-desk admin issue-practice-token``) reads only what is
addressed to its ODS code. ``_lastUpdated`` is the time the notification's
content reached the endpoint (not the laptop's clock, which may have been offline for hours),
so a practice polling with its last poll time misses nothing. What the practice fetches is
marked read (``read_at``, ``read_by``) as an endpoint change in the team's scope, so the team's
laptops learn when it was read at their next sync.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.gp_notification import ENDPOINT_ONLY_FIELDS
from int_desk.fhir import mapping, ukcore
from int_desk.fhir.outcome import searchset
from int_desk.reports.gp_summary_pdf import render_gp_summary
from int_desk.server import fhir_records as fr
from int_desk.server.engine_ops import _Seqs, lock_scopes
from int_desk.server.models import Record, utcnow_text
from int_desk.server.read_scope import FULL

ENTITY = "gp_notification"
MAX_RESULTS = 1000


def _since(values: list[str]) -> tuple[str | None, str | None]:
    """(after, before) ISO bounds from ``_lastUpdated`` values with gt/ge/lt/le prefixes."""
    from int_desk.server.fhir_api import FhirError

    after = before = None
    for value in values:
        prefix, rest = value[:2], value[2:]
        if prefix not in ("gt", "ge", "lt", "le"):
            prefix, rest = "ge", value
        try:
            # An unencoded '+' in a query string arrives as a space.
            moment = datetime.fromisoformat(rest.replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            raise FhirError(
                400, "_lastUpdated needs a date or dateTime, e.g. gt2026-12-06T10:00:00Z."
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        text = moment.astimezone(UTC).isoformat(timespec="microseconds")
        if prefix in ("gt", "ge"):
            after = max(after or text, text)
        else:
            before = min(before or text, text)
    return after, before


def _arrived(rec: Record) -> str:
    """When the notification's content reached the endpoint (the read marker excluded)."""
    meta = json.loads(rec.field_meta or "{}")
    times = [m[3] for f, m in meta.items() if f not in ENDPOINT_ONLY_FIELDS and len(m) > 3]
    return max(times) if times else rec.updated_at


def _recipient(params: dict[str, list[str]], own: str) -> None:
    from int_desk.server.fhir_api import FhirError, one

    value = one(params, "recipient") or one(params, "recipient:identifier")
    if value is None:
        return
    code = value.rpartition("|")[2] if "|" in value else value.rpartition("/")[2]
    system = value.partition("|")[0] if "|" in value else ukcore.ODS_SYSTEM
    if system != ukcore.ODS_SYSTEM or ukcore.ods_problem(code.upper()):
        raise FhirError(400, f"recipient is a practice ODS code ({ukcore.ODS_SYSTEM}|CODE).")
    if code.upper() != own:
        raise FhirError(403, "A practice token reads its own practice's notifications only.")


def mark_read(session: Session, rec: Record, who: str) -> dict[str, Any]:
    """Record the practice's reading as an endpoint change (a new version in the team scope)."""
    data: dict[str, Any] = json.loads(rec.data)
    if data.get("read_at"):
        return data
    lock_scopes(session, (rec.scope,))
    version = _Seqs(session).next(rec.scope)
    now = utcnow_text()
    data["read_at"] = now
    data["read_by"] = who[:120]
    meta = json.loads(rec.field_meta or "{}")
    stamp = [version, "endpoint", who[:120], now]
    meta.update({f: stamp for f in ENDPOINT_ONLY_FIELDS})
    rec.data = json.dumps(data)
    rec.field_meta = json.dumps(meta)
    rec.version = version
    rec.updated_at = now
    session.flush()
    return data


def _names(session: Session, data: dict[str, Any]) -> tuple[dict[str, Any] | None, str, str]:
    def row(entity: str, rid: Any) -> dict[str, Any] | None:
        if not rid:
            return None
        rec = session.get(Record, (entity, uuid.UUID(str(rid))))
        return json.loads(rec.data) if rec is not None and not rec.deleted else None

    patient = row("patient", data.get("patient_id"))
    team = (row("team", data.get("team_id")) or {}).get("name", "")
    practice = (row("organisation", data.get("practice_id")) or {}).get("name", "")
    return patient, team, practice


def register(app: APIRouter, handle: Callable[..., Response], base_url: Any) -> None:
    from int_desk.server.fhir_api import FhirError, PracticeReader, parse_id, query_params

    def practice_of(reader: Any) -> PracticeReader:
        if not isinstance(reader, PracticeReader):
            raise FhirError(
                403, "Communication is read with a practice token; the team sees its "
                "notifications in INT Desk."
            )  # fmt: skip
        return reader

    @app.get("/fhir/R4/Communication")
    def communication_search(request: Request) -> Response:
        def work(s: Session, reader: Any) -> tuple[Any, list[Any], Any, str]:
            token = practice_of(reader)
            params = query_params(request, {"recipient", "recipient:identifier", "_lastUpdated"})
            _recipient(params, token.ods_code)
            after, before = _since(params.get("_lastUpdated", []))
            query = select(Record).where(
                Record.entity == ENTITY,
                Record.deleted.is_(False),
                Record.data.contains(f'"recipient_ods": "{token.ods_code}"'),
            )
            if after:
                query = query.where(Record.updated_at >= after)
            found = []
            for rec in s.scalars(query.order_by(Record.version)):
                data = json.loads(rec.data)
                arrived = _arrived(rec)
                if data.get("recipient_ods") != token.ods_code:
                    continue
                if (after and arrived <= after) or (before and arrived >= before):
                    continue
                found.append((rec, arrived))
                if len(found) > MAX_RESULTS:
                    raise FhirError(
                        413, f"More than {MAX_RESULTS} notifications; narrow _lastUpdated."
                    )
            who = f"{token.label or 'GP practice'} ({token.ods_code})"
            resources, patients = [], []
            for rec, arrived in found:
                data = {**mark_read(s, rec, who), "id": str(rec.id)}
                patient, team, practice = _names(s, data)
                resources.append(
                    mapping.communication(
                        data, patient_row=patient, team_name=team, practice_name=practice,
                        summary_url=f"{base_url(request)}/Binary/{rec.id}", updated=arrived,
                    )
                )  # fmt: skip
                patients.append(data["patient_id"])
            bundle = searchset(base_url(request), str(request.url), resources)
            return bundle, patients, None, f"search-type n={len(resources)}"

        return handle(request, "Communication", work, staff_only=False)

    @app.get("/fhir/R4/Binary/{rid}")
    def gp_summary(request: Request, rid: str) -> Response:
        def work(s: Session, reader: Any) -> tuple[Any, list[Any], Any, str]:
            token = practice_of(reader)
            query_params(request, set())
            rec = s.get(Record, (ENTITY, parse_id(rid)))
            if rec is None or rec.deleted:
                raise FhirError(404, "No such summary for your practice.")
            data = json.loads(rec.data)
            if data.get("recipient_ods") != token.ods_code:
                raise FhirError(404, "No such summary for your practice.")
            data = {**mark_read(s, rec, f"{token.label or 'GP practice'} ({token.ods_code})"),
                    "id": str(rec.id)}  # fmt: skip
            staff = fr.StaffReader(uuid.UUID(int=0), (rec.scope,), FULL)
            person = fr.person_rows(s, staff, uuid.UUID(data["patient_id"]))
            if person is None:
                raise FhirError(404, "No such summary for your practice.")
            plans = [p for p in person.plans() if p.get("status") == "active"]
            person_data = fr.person_data(s, staff, person, plans[-1] if plans else None)
            _patient, team, _practice = _names(s, data)
            pdf_bytes = render_gp_summary(
                person_data, data, team=team, printed_by=f"INT Desk endpoint for {token.ods_code}",
                printed_at=datetime.now(UTC),
            )  # fmt: skip
            response = Response(pdf_bytes, media_type="application/pdf")
            return response, [data["patient_id"]], rid, "gp-summary"

        return handle(request, "Binary", work, staff_only=False)
