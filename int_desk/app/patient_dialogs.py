"""Small forms for the patient actions (add contact, allocate task, refer, escalate ...).

One ``ActionDialog`` builds a labelled form from field specs, runs the service call on the
store worker when the user presses the primary button (disabled meanwhile), shows a
ValidationError inline beside the form (focusing the field it names) and closes on success.
Every control has an accessible name; the primary button is the default (Enter) and
Ctrl+Enter submits from a multi-line text box.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.dialog_parts import error_label
from int_desk.app.messages import describe
from int_desk.domain.errors import IntDeskError, ValidationError
from int_desk.domain.uk_time import from_london_wall, in_london, london_now, london_today


@dataclass
class Field:
    name: str
    label: str
    kind: str = "line"  # line | text | choice | date | datetime | check
    choices: Sequence[tuple[Any, str]] = ()
    default: Any = None
    help: str = ""
    min_date: date | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)  # service field names it answers
    required: bool = False  # checked before submitting: a choice must not be left on "Choose…"


class ActionDialog(QDialog):
    """Signals: ``done(object)`` with the service's result after a successful submit."""

    done = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        title: str,
        intro: str,
        fields: list[Field],
        submit: Callable[[Any, dict[str, Any]], Any],
        *,
        ok_text: str = "Save",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._submit = submit
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setObjectName("dialogTitle")
        layout.addWidget(heading)
        if intro:
            text = QLabel(intro)
            text.setWordWrap(True)
            layout.addWidget(text)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)
        self.widgets: dict[str, QWidget] = {}
        self.fields = {f.name: f for f in fields}
        for f in fields:
            w = self._make(f)
            w.setAccessibleName(f.label.rstrip(" *"))
            if f.help:
                w.setToolTip(f.help)
                w.setAccessibleDescription(f.help)
            label = QLabel(f.label)
            label.setBuddy(w)
            form.addRow(label, w)
            self.widgets[f.name] = w
        self.error = error_label()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(ok_text)
        self.ok.setDefault(True)
        self.ok.setAccessibleName(ok_text)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.submit)
        if fields:
            self.widgets[fields[0].name].setFocus()

    def _make(self, f: Field) -> QWidget:
        if f.kind == "text":
            w = QPlainTextEdit()
            w.setTabChangesFocus(True)
            w.setMinimumHeight(110)
            if f.default:
                w.setPlainText(str(f.default))
            return w
        if f.kind == "choice":
            w = QComboBox()
            for value, label in f.choices:
                w.addItem(label, value)
            if f.default is not None:
                i = w.findData(f.default)
                if i >= 0:
                    w.setCurrentIndex(i)
            return w
        if f.kind == "date":
            w = QDateEdit()
            w.setCalendarPopup(True)
            w.setDisplayFormat("dd MMM yyyy")
            d = f.default or london_today()
            w.setDate(QDate(d.year, d.month, d.day))
            if f.min_date:
                m = f.min_date
                w.setMinimumDate(QDate(m.year, m.month, m.day))
            return w
        if f.kind == "datetime":
            w = QDateTimeEdit()
            w.setCalendarPopup(True)
            w.setDisplayFormat("dd MMM yyyy HH:mm")
            # London's wall clock, whatever this computer's zone (values() reads it back so)
            now = QDateTime(now_local().replace(tzinfo=None, second=0, microsecond=0))
            w.setDateTime(now)
            w.setMaximumDateTime(now.addSecs(300))
            return w
        if f.kind == "check":
            w = QCheckBox()
            w.setChecked(bool(f.default))
            return w
        w = QLineEdit()
        if f.default:
            w.setText(str(f.default))
        return w

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, w in self.widgets.items():
            if isinstance(w, QPlainTextEdit):
                out[name] = w.toPlainText()
            elif isinstance(w, QComboBox):
                out[name] = w.currentData()
            elif isinstance(w, QDateTimeEdit) and not isinstance(w, QDateEdit):
                wall = from_london_wall(w.dateTime().toPython().replace(tzinfo=None))
                out[name] = wall.astimezone(UTC)
            elif isinstance(w, QDateEdit):
                out[name] = w.date().toPython()
            elif isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, QLineEdit):
                out[name] = w.text()
        return out

    def set_value(self, name: str, value: Any) -> None:
        """Fill a field programmatically (tests, and pre-filling from a selection)."""
        w = self.widgets[name]
        if isinstance(w, QPlainTextEdit):
            w.setPlainText(value)
        elif isinstance(w, QComboBox):
            index = w.findData(value)
            if index < 0:
                raise ValueError(f"{name}: no such choice")
            w.setCurrentIndex(index)
        elif isinstance(w, QDateEdit):
            w.setDate(QDate(value.year, value.month, value.day))
        elif isinstance(w, QDateTimeEdit):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = in_london(value).replace(tzinfo=None)  # shown as London's wall clock
            w.setDateTime(QDateTime(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QLineEdit):
            w.setText(value)

    def missing(self, values: dict[str, Any]) -> Field | None:
        """The first required field left empty (a choice still on its "Choose…" entry)."""
        for name, f in self.fields.items():
            value = values.get(name)
            if f.required and (value is None or (isinstance(value, str) and not value.strip())):
                return f
        return None

    def submit(self) -> None:
        if not self.ok.isEnabled():
            return
        values = self.values()
        empty = self.missing(values)
        if empty is not None:  # nobody and nothing is chosen on the user's behalf
            what = empty.label.rstrip(" *")
            verb = "Choose" if empty.kind == "choice" else "Enter"
            self.error.setText(f"{verb} the {what.lower()}: it is required.")
            self.error.show()
            self.widgets[empty.name].setFocus()
            return
        self.ok.setEnabled(False)
        self.error.hide()
        self.ctx.query(lambda s: self._submit(s, values), self._succeeded, self._failed)

    def _succeeded(self, result: Any) -> None:
        self.ok.setEnabled(True)
        self.done.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        self.error.setText(describe(exc))
        self.error.show()
        if isinstance(exc, ValidationError) and exc.field:
            for name, f in self.fields.items():
                if exc.field == name or exc.field in f.aliases:
                    self.widgets[name].setFocus()
                    break
        elif not isinstance(exc, IntDeskError):
            from int_desk.app.messages import show_error

            show_error(self, exc)


def now_local() -> datetime:
    """Now on London's clock (the team's), whatever this computer's zone."""
    return london_now()
