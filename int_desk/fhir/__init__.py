"""FHIR R4 / UK Core: INT Desk's records as FHIR resources and back, on plain data.

Qt-free and store-free, so one mapping serves the workspace (ORM rows turned into wire dicts by
``int_desk.wire.schema.row_to_wire``) and the central endpoint (its stored record JSON, which is
the same wire form). Public API:

- ``ukcore``: identifier systems, profile URLs, code systems, and the UK Core checks that a
  generic FHIR model does not know (NHS number Modulus 11, ODS code shape).
- ``mapping``: ``PersonData`` (one person's wire rows) -> resources, a Bundle, NDJSON lines.
- ``reading``: a Bundle or NDJSON of Patients (with Flags and Conditions) -> import rows.
- ``outcome``: OperationOutcome documents for every error answer.

Nothing here logs, and no error message repeats a value from the data (they may be printed).
"""
