"""Shared CLI helpers: open a workspace from ``--workspace`` with keyring, env or prompt."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from int_desk.domain.errors import KeyUnavailable
from int_desk.store.workspace import Workspace


def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", required=True, type=Path, help="workspace directory")


def open_workspace(directory: Path) -> Workspace:
    """Keyring, then INT_DESK_PASSPHRASE, then a prompt when a terminal is attached."""
    try:
        return Workspace.open(directory)
    except KeyUnavailable:
        if not sys.stdin.isatty():
            raise KeyUnavailable(
                "No key available: set INT_DESK_PASSPHRASE or run from a terminal."
            ) from None
    return Workspace.open(directory, getpass.getpass("Workspace passphrase: "))


def new_passphrase(prompt: str = "New passphrase") -> str:
    from int_desk.store.workspace import passphrase_from_env

    env = passphrase_from_env()
    if env:
        return env
    if not sys.stdin.isatty():
        raise KeyUnavailable("Set INT_DESK_PASSPHRASE or run from a terminal to choose one.")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass("Repeat it: ") != first:
        raise KeyUnavailable("The two passphrases differ; nothing was created.")
    return first


def add_first_import_args(p: argparse.ArgumentParser) -> None:
    """import-cohort's and import-fhir's options for a first import (``UNKNOWN_PRACTICES``)."""
    p.add_argument(
        "--new-cohort", action="store_true",
        help="create the cohort in your team when it does not exist yet (a first import)",
    )  # fmt: skip
    p.add_argument(
        "--add-practices", action="store_true",
        help="add GP practice codes not known here as practices awaiting a name",
    )  # fmt: skip


# import-cohort and import-fhir: an import names no practice the workspace does not know
# unless asked to (a mistyped ODS code would otherwise become a practice silently).
UNKNOWN_PRACTICES = (
    "Nothing was written: the file has GP practices this workspace does not know. Run again "
    "with --add-practices to add them as practices awaiting a name (your administrator names "
    "them later), or add them first (int-desk admin add-practice)."
)


def report_preview(
    args: argparse.Namespace,
    preview: Any,
    *,
    fields: dict[str, str] | None = None,
    rejected: int | None = None,
    what: str = "rows",
) -> int | None:
    """Print an import preview (its column mapping when ``fields`` names them, and its report);
    the exit code when the import stops here (problems; --dry-run; --strict with rejected
    ``what``), None to go on and write."""
    if fields is not None:
        print("Column mapping:")
        for column, fld in preview.mapping.items():
            print(f"  {column} -> {fields.get(fld, fld)}")
    for line in preview.report_lines():
        print(line)
    if preview.problems:
        return 2
    rejected = len(preview.rejected) if rejected is None else rejected
    if args.dry_run:
        print("Dry run: nothing was written.")
        return 1 if rejected else 0
    if args.strict and rejected:
        print(f"Strict: {what} were rejected, so nothing was written.")
        return 1
    return None


def read_mapped(args: argparse.Namespace, importer: Any) -> tuple[Any, dict[str, str]]:
    """The extract ``args.file`` read by an importer module (cohort or admissions), and its
    columns' mapping with the --map choices applied."""
    from int_desk.domain.errors import ValidationError

    if not args.file.exists():
        raise ValidationError(f"No such file: {args.file}")
    table = importer.COLUMNS.read(args.file, sheet=args.sheet)
    return table, importer.apply_overrides(importer.COLUMNS.auto_mapping(table.headers), args.map)
