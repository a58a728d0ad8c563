"""Every user preference, declared once as data, with typed accessors (Qt-free).

The settings dialog is generated from ``SETTINGS``; the app stores values through any object
with ``value(key, default)`` / ``setValue(key, value)`` (QSettings in the app, a dict-backed
``MemoryStore`` in headless code and tests). Preferences only: never patient data.

    prefs = Preferences(store)
    prefs.idle_lock_minutes()        # always within bounds, whatever is on disk
    prefs.set("sync/interval_minutes", 30)   # validated and clamped

Other parts read these keys directly; the security engineer's auto-lock reads
``security/idle_lock_minutes`` (default 5, 1..15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from int_desk.domain.errors import ValidationError


class Store(Protocol):
    def value(self, key: str, defaultValue: Any = None) -> Any: ...  # noqa: N803 - QSettings API

    def setValue(self, key: str, value: Any) -> None: ...  # noqa: N802 - QSettings API


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    type: str  # "int" | "str" | "path" | "url" | "choice"
    label: str
    help: str = ""
    minimum: int | None = None
    maximum: int | None = None
    suffix: str = ""
    choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (value, label)
    group: str = "General"


ENDPOINT_URL = "sync/endpoint_url"
SYNC_INTERVAL = "sync/interval_minutes"
IDLE_LOCK = "security/idle_lock_minutes"
PDF_FOLDER = "reports/pdf_folder"
APPEARANCE = "appearance/color_scheme"
LAST_WORKSPACE = "workspace/last_opened"

SETTINGS: tuple[Setting, ...] = (
    Setting(
        ENDPOINT_URL,
        "",
        "url",
        "Team endpoint",
        "The address your INT's administrator gave you, e.g. https://int.example.nhs.uk. "
        "Leave empty to work on this computer only.",
        group="Sync",
    ),
    Setting(
        SYNC_INTERVAL,
        5,
        "int",
        "Sync every",
        "How often INT Desk exchanges changes with the team endpoint while open.",
        minimum=1,
        maximum=240,
        suffix=" min",
        group="Sync",
    ),
    Setting(
        IDLE_LOCK,
        5,
        "int",
        "Lock after idle for",
        "The workspace locks itself after this long without keyboard or mouse use "
        "(at most 15 minutes, per the team's information governance).",
        minimum=1,
        maximum=15,
        suffix=" min",
        group="Security",
    ),
    Setting(
        PDF_FOLDER,
        "",
        "path",
        "Save PDFs to",
        "Where care plans and huddle agendas are saved by default. Empty: your Documents folder.",
        group="Documents",
    ),
    Setting(
        APPEARANCE,
        "system",
        "choice",
        "Appearance",
        "Light or dark; 'Follow the system' matches your desktop's setting.",
        choices=(("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")),
        group="Display",
    ),
)

# Internal bookkeeping keys (not shown in the dialog).
INTERNAL: tuple[Setting, ...] = (Setting(LAST_WORKSPACE, "", "path", "Last workspace opened"),)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS + INTERNAL}


def coerce(setting: Setting, raw: Any) -> Any:
    """Turn a stored value (INI files give strings) into a valid one; fall back to the default."""
    if raw is None:
        return setting.default
    if setting.type == "int":
        try:
            number = int(str(raw).strip())
        except ValueError:
            return setting.default
        if setting.minimum is not None:
            number = max(setting.minimum, number)
        if setting.maximum is not None:
            number = min(setting.maximum, number)
        return number
    text = str(raw).strip()
    if setting.type == "choice":
        return text if text in {value for value, _ in setting.choices} else setting.default
    if setting.type == "url" and text and validate_url(text) is not None:
        return setting.default
    return text


def validate_url(text: str) -> str | None:
    """None when ``text`` is an acceptable endpoint address, else a message for the user."""
    parsed = urlparse(text.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return "Enter the full address, starting with https:// (e.g. https://int.example.nhs.uk)."
    if parsed.scheme == "http" and parsed.hostname not in ("localhost", "127.0.0.1", "::1"):
        return "Use https:// - plain http is only allowed for an endpoint on this computer."
    return None


def validate(setting: Setting, value: Any) -> Any:
    """Check a value the user entered: returns the value to store or raises ValidationError."""
    if setting.type == "int":
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{setting.label}: enter a whole number.", setting.key) from None
        lo, hi = setting.minimum, setting.maximum
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise ValidationError(
                f"{setting.label}: choose between {lo} and {hi}{setting.suffix}.", setting.key
            )
        return number
    text = "" if value is None else str(value).strip()
    if setting.type == "url" and text:
        problem = validate_url(text)
        if problem:
            raise ValidationError(problem, setting.key)
    if setting.type == "choice" and text not in {v for v, _ in setting.choices}:
        raise ValidationError(f"{setting.label}: not one of the offered choices.", setting.key)
    return text


class MemoryStore:
    """A dict with the QSettings calls Preferences uses (headless code, self-test)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def value(self, key: str, defaultValue: Any = None) -> Any:  # noqa: N803
        return self.data.get(key, defaultValue)

    def setValue(self, key: str, value: Any) -> None:  # noqa: N802
        self.data[key] = value


class Preferences:
    """Typed, bounded access to the settings in ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> Any:
        setting = BY_KEY[key]
        return coerce(setting, self.store.value(key, None))

    def set(self, key: str, value: Any) -> Any:
        setting = BY_KEY[key]
        clean = validate(setting, value)
        self.store.setValue(key, clean)
        return clean

    # --- typed accessors ----------------------------------------------------------------------

    def endpoint_url(self) -> str | None:
        return self.get(ENDPOINT_URL) or None

    def sync_interval_minutes(self) -> int:
        return int(self.get(SYNC_INTERVAL))

    def idle_lock_minutes(self) -> int:
        return int(self.get(IDLE_LOCK))

    def pdf_folder(self) -> Path:
        text = self.get(PDF_FOLDER)
        return Path(text) if text else Path.home() / "Documents"

    def color_scheme(self) -> str:
        return str(self.get(APPEARANCE))

    def last_workspace(self) -> Path | None:
        text = self.get(LAST_WORKSPACE)
        return Path(text) if text else None
