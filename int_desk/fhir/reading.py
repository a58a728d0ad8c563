"""Reading a FHIR Bundle or NDJSON of Patients (with their Flags and Conditions) for import.

    parsed = read_bytes(data, name="cohort.json")          # or read_path(path)

Returns one ``PatientEntry`` per Patient, at its position (Bundle entry number or NDJSON line),
holding the cells the cohort import reads (``int_desk.services.cohort_import`` FIELDS) plus the
flag codes and condition labels found for the person, and the problems found on the way. The
cohort import then validates the cells exactly as it does a CSV row. Problems with the file as a
whole (not JSON, not a Bundle, a Flag about nobody in the file, too large) raise
ValidationError or land in ``problems``; either way nothing is imported.

Messages name positions, resource types, elements and code systems, never values (a value may
be an NHS number or a name).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import FlagCode
from int_desk.fhir import ukcore

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_RESOURCES = 200_000
MAX_DEPTH = 64
READ_TYPES = ("Patient", "Flag", "Condition")
# Types an INT Desk export carries beside Patients: passed over quietly on import.
EXPORT_TYPES = frozenset(
    {"Organization", "Practitioner", "PractitionerRole", "CareTeam", "CarePlan", "Goal",
     "Consent", "Provenance", "Task", "ServiceRequest", "Communication"}
)  # fmt: skip


@dataclass
class PatientEntry:
    position: int  # entry number in a Bundle, line in NDJSON (1-based)
    cells: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)  # FlagCode values
    conditions: list[str] = field(default_factory=list)  # labels
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ParsedFhir:
    kind: str  # "bundle" | "ndjson"
    source_name: str
    entries: list[PatientEntry]
    size: int  # positions in the file (entries or lines), for numbering
    problems: list[str] = field(default_factory=list)  # file-level: nothing can be imported
    ignored: dict[str, int] = field(default_factory=dict)  # other resource types passed over

    @property
    def position_word(self) -> str:
        return "entry" if self.kind == "bundle" else "line"


def _depth(value: Any, limit: int) -> int:
    """Nesting depth, stopping at ``limit`` (a hostile file may nest thousands deep)."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return deepest


def _loads(text: str, where: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{where} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None
    except RecursionError:
        raise ValidationError(f"{where} is nested too deeply to be a FHIR resource.") from None
    if _depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise ValidationError(f"{where} is nested too deeply to be a FHIR resource.")
    return value


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text, as FHIR JSON must be.") from None


def read_path(path: Path) -> ParsedFhir:
    """A Bundle or NDJSON file, or a Bulk Data folder (its Patient/Flag/Condition .ndjson)."""
    path = Path(path)
    if path.is_dir() or path.name == "manifest.json":
        folder = path if path.is_dir() else path.parent
        names = (*READ_TYPES, "Organization")  # Patient first: its line numbers stay true
        files = [folder / f"{t}.ndjson" for t in names if (folder / f"{t}.ndjson").exists()]
        if not any(f.name == "Patient.ndjson" for f in files):
            raise ValidationError("That folder has no Patient.ndjson to import.")
        if sum(f.stat().st_size for f in files) > MAX_FILE_BYTES:
            raise ValidationError("Those files are too large to import (over 100 MB).")
        # One logical NDJSON: positions count on across the files.
        data = b"\n".join(f.read_bytes().rstrip(b"\n") for f in files)
        return read_bytes(data, name=folder.name, ndjson=True)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationError("That file is too large to import (over 100 MB).")
    return read_bytes(path.read_bytes(), name=path.name)


def read_bytes(data: bytes, *, name: str = "", ndjson: bool | None = None) -> ParsedFhir:
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError("That file is too large to import (over 100 MB).")
    text = _decode(data)
    if not text.strip():
        raise ValidationError("The file is empty.")
    lines = text.splitlines()
    if ndjson is None:  # a Bundle is one JSON document; NDJSON is one resource per line
        ndjson = name.lower().endswith(".ndjson") or (
            len([ln for ln in lines if ln.strip()]) > 1 and lines[0].strip().endswith("}")
        )
    if ndjson:
        resources: list[tuple[int, Any]] = []
        for n, line in enumerate(lines, start=1):
            if line.strip():
                resources.append((n, _loads(line, f"Line {n}")))
            if len(resources) > MAX_RESOURCES:
                raise ValidationError(f"The file has more than {MAX_RESOURCES:,} resources.")
        return _read(resources, "ndjson", name, len(lines), {})
    doc = _loads(text, "The file")
    if not isinstance(doc, dict):
        raise ValidationError("The file is not a FHIR resource (expected a JSON object).")
    rtype = doc.get("resourceType")
    if rtype == "Patient":
        return _read([(1, doc)], "bundle", name, 1, {})
    if rtype != "Bundle":
        shown = rtype if isinstance(rtype, str) and rtype.isalpha() and len(rtype) < 40 else None
        raise ValidationError(
            "Expected a FHIR Bundle or NDJSON of Patients"
            + (f"; this file's resourceType is {shown}." if shown else "; this file has none.")
        )
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise ValidationError("The Bundle's entry element is not a list.")
    if len(entries) > MAX_RESOURCES:
        raise ValidationError(f"The Bundle has more than {MAX_RESOURCES:,} entries.")
    resources = []
    full_urls: dict[str, int] = {}
    for n, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        resources.append((n, resource))
        url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if isinstance(url, str):
            full_urls[url] = n
    return _read(resources, "bundle", name, len(entries), full_urls)


# --- resources ---------------------------------------------------------------------------------


def _patient_cells(resource: dict[str, Any], entry: PatientEntry, orgs: dict[str, str]) -> None:
    cells = entry.cells
    ids = resource.get("identifier") or []
    numbers = [
        i.get("value")
        for i in ids
        if isinstance(i, dict) and i.get("system") == ukcore.NHS_NUMBER_SYSTEM
    ]
    if not numbers:
        entry.problems.append(f"no NHS number identifier (system {ukcore.NHS_NUMBER_SYSTEM})")
    elif len(set(map(str, numbers))) > 1:
        entry.problems.append("more than one NHS number identifier")
    else:
        cells["nhs_number"] = str(numbers[0]) if isinstance(numbers[0], str) else ""
        if not cells["nhs_number"]:
            entry.problems.append("the NHS number identifier has no text value")
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = name.get("given") or []
    if isinstance(name.get("family"), str) or given:
        cells["family_name"] = str(name.get("family") or "")
        cells["given_name"] = " ".join(g for g in given if isinstance(g, str))
    elif isinstance(name.get("text"), str):
        cells["full_name"] = name["text"]
    birth = resource.get("birthDate")
    cells["date_of_birth"] = birth if isinstance(birth, str) else ""
    addresses = [a for a in resource.get("address") or [] if isinstance(a, dict)]
    home = next((a for a in addresses if a.get("use") == "home"), addresses[0] if addresses else {})
    if isinstance(home.get("postalCode"), str):
        cells["postcode"] = home["postalCode"]
    gender = resource.get("gender")
    cells["sex"] = gender if isinstance(gender, str) else ""
    for gp in resource.get("generalPractitioner") or []:
        if not isinstance(gp, dict):
            continue
        ident = gp.get("identifier") if isinstance(gp.get("identifier"), dict) else {}
        code = ident.get("value") if ident.get("system") == ukcore.ODS_SYSTEM else None
        if code is None and isinstance(gp.get("reference"), str):
            code = orgs.get(gp["reference"]) or orgs.get(gp["reference"].rpartition("/")[2])
        if isinstance(code, str):
            problem = ukcore.ods_problem(code.strip().upper())
            if problem:
                entry.problems.append(f"registered practice: {problem}")
            else:
                cells["practice_code"] = code.strip().upper()
            break
    else:
        if resource.get("generalPractitioner"):
            entry.notes.append("registered practice has no ODS code; not set")


def _organisations(resources: list[tuple[int, Any]], full_urls: dict[str, int]) -> dict[str, str]:
    """Reference keys (fullUrl, Organization/id, id) -> ODS code of Organizations in the file."""
    by_position = {n: url for url, n in full_urls.items()}
    out: dict[str, str] = {}
    for n, r in resources:
        if not isinstance(r, dict) or r.get("resourceType") != "Organization":
            continue
        code = next(
            (i.get("value") for i in r.get("identifier") or []
             if isinstance(i, dict) and i.get("system") == ukcore.ODS_SYSTEM),
            None,
        )  # fmt: skip
        if not isinstance(code, str):
            continue
        for key in (by_position.get(n), f"Organization/{r.get('id')}", str(r.get("id"))):
            if key:
                out[key] = code
    return out


def _codings(concept: Any) -> Iterator[dict[str, Any]]:
    if isinstance(concept, dict):
        for c in concept.get("coding") or []:
            if isinstance(c, dict):
                yield c


def _flag(resource: dict[str, Any]) -> tuple[str | None, str]:
    """(FlagCode value or None, problem)."""
    if resource.get("status") not in (None, "active"):
        return None, ""
    codings = list(_codings(resource.get("code")))
    ours = [c for c in codings if c.get("system") == ukcore.FLAG_SYSTEM]
    if not ours:
        systems = sorted({str(c.get("system"))[:80] for c in codings}) or ["none"]
        return None, (
            f"Flag code system {', '.join(systems)} is not one INT Desk reads "
            f"(use {ukcore.FLAG_SYSTEM})"
        )
    code = ours[0].get("code")
    if code not in {f.value for f in FlagCode}:
        return None, f"Flag code is not one of {', '.join(f.value for f in FlagCode)}"
    return str(code), ""


def _condition(resource: dict[str, Any]) -> tuple[str | None, str]:
    status = [c.get("code") for c in _codings(resource.get("clinicalStatus"))]
    if status and not set(status) & {"active", "recurrence", "relapse"}:
        return None, ""  # resolved or inactive: not a current long-term condition
    concept = resource.get("code") if isinstance(resource.get("code"), dict) else {}
    text = concept.get("text")
    codings = list(_codings(concept))
    known = [c for c in codings if c.get("system") in ukcore.KNOWN_CONDITION_SYSTEMS]
    if not isinstance(text, str) or not text.strip():
        text = next((c.get("display") for c in known if isinstance(c.get("display"), str)), None)
    if not isinstance(text, str) or not text.strip():
        if codings and not known:
            systems = sorted({str(c.get("system"))[:80] for c in codings})
            return None, (
                f"Condition code system {', '.join(systems)} is not one INT Desk reads, "
                "and the Condition has no text"
            )
        return None, "Condition has no code text or display to record"
    label = " ".join(text.replace(",", " ").split())[:100]
    return label, ""


def _subject_key(resource: dict[str, Any], field_name: str) -> tuple[str, str]:
    """('ref', reference) or ('nhs', number) of a Flag's or Condition's subject."""
    subject = resource.get(field_name)
    if not isinstance(subject, dict):
        return "", ""
    if isinstance(subject.get("reference"), str):
        return "ref", subject["reference"]
    ident = subject.get("identifier")
    if isinstance(ident, dict) and ident.get("system") == ukcore.NHS_NUMBER_SYSTEM:
        return "nhs", str(ident.get("value"))
    return "", ""


def _read(
    resources: list[tuple[int, Any]], kind: str, name: str, size: int, full_urls: dict[str, int]
) -> ParsedFhir:
    parsed = ParsedFhir(kind, name, [], size)
    word = parsed.position_word
    orgs = _organisations(resources, full_urls)
    by_ref: dict[str, PatientEntry] = {}
    by_nhs: dict[str, PatientEntry] = {}
    urls_at = {n: url for url, n in full_urls.items()}
    others: list[tuple[int, dict[str, Any]]] = []
    for n, r in resources:
        if not isinstance(r, dict):
            parsed.problems.append(f"{word} {n}: not a FHIR resource (expected a JSON object)")
            continue
        rtype = r.get("resourceType")
        if not isinstance(rtype, str) or not rtype:
            parsed.problems.append(f"{word} {n}: not a FHIR resource (no resourceType)")
            continue
        if rtype == "Patient":
            entry = PatientEntry(n)
            _patient_cells(r, entry, orgs)
            parsed.entries.append(entry)
            for key in (urls_at.get(n), f"Patient/{r.get('id')}" if r.get("id") else None):
                if key:
                    by_ref[key] = entry
            if entry.cells.get("nhs_number"):
                by_nhs.setdefault(entry.cells["nhs_number"], entry)
        elif rtype in ("Flag", "Condition"):
            others.append((n, r))
        elif rtype != "Organization":  # Organizations were read for practice codes
            shown = rtype if rtype.isalpha() and len(rtype) < 40 else "other"
            parsed.ignored[shown] = parsed.ignored.get(shown, 0) + 1
    for n, r in others:
        rtype = r["resourceType"]
        how, key = _subject_key(r, "subject")
        entry = by_ref.get(key) if how == "ref" else by_nhs.get(key) if how == "nhs" else None
        if entry is None and how == "ref":
            entry = by_ref.get(f"Patient/{key.rpartition('/')[2]}")
        if entry is None:
            parsed.problems.append(
                f"{word} {n}: the {rtype}'s subject is not a Patient in this file"
            )
            continue
        value, problem = _flag(r) if rtype == "Flag" else _condition(r)
        if problem:
            entry.problems.append(f"{problem} ({word} {n})")
        elif value and rtype == "Flag" and value not in entry.flags:
            entry.flags.append(value)
        elif (
            value and rtype == "Condition" and value.lower() not in map(str.lower, entry.conditions)
        ):
            entry.conditions.append(value)
    if not parsed.entries and not parsed.problems:
        parsed.problems.append("The file holds no Patient resources to import.")
    return parsed
