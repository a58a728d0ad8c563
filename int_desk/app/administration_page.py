"""Administration: the team's set-up, for the INT administrator (role-gated, every change audited).

Tabs: Teams (with the phone and email care plans print), GP practices (by ODS code; those an
import added await a name), Organisations (council, VCSE, pharmacy...), Members (role,
organisation, teams) and, on a connected workspace, Devices and invitations.

A standalone workspace is changed here directly (``services.team_setup``). A connected one's
set-up belongs to its endpoint: a change goes there (``services.sync_link.team_admin``), is
checked and audited there, and comes back to this and every other laptop by sync. If another
administrator changed the same row first, the endpoint refuses, this page shows their values
and keeps yours in the form: Save again to put yours over theirs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.administration_access import AccessAdministration
from int_desk.app.administration_widgets import (
    Section,
    admin_table,
    blank,
    fill_table,
    selected_key,
)
from int_desk.app.context import AppContext
from int_desk.app.messages import confirm, describe
from int_desk.domain import reference as ref
from int_desk.domain.errors import ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import OrganisationKind, Role
from int_desk.services import team_setup as ts
from int_desk.store.changes import Changes

log = logging.getLogger(__name__)
# What the directory tabs show (a connected workspace gets them back from the endpoint by sync).
DIRECTORY_TABLES = ("team", "team_membership", "member", "place", "organisation")

NOT_ALLOWED = (
    "Only an INT administrator can change the team's set-up (teams, GP practices, members and "
    "who may join). Ask yours; everything here reaches your computer when INT Desk syncs."
)


class AdministrationPage(AccessAdministration):
    title = "Administration"
    shortcut = "Ctrl+8"
    refreshed = Signal()
    saved = Signal(str)  # the entity saved (tests wait on it)
    failed = Signal(str)  # the message shown

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName("Administration")
        self.d = ts.Directory()
        self.allowed = False
        self.endpoint: str | None = None  # the endpoint's address when connected
        self.heading = QLabel("Administration")
        self.heading.setObjectName("pageTitle")
        self.where = QLabel("")
        self.where.setWordWrap(True)
        self.next_steps = QLabel("")
        self.next_steps.setObjectName("emptyState")
        self.next_steps.setAccessibleName("What to do next")
        self.next_steps.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Set-up sections")
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.where)
        layout.addWidget(self.next_steps)
        layout.addWidget(self.tabs, 1)
        self._build_teams()
        self._build_places()
        self._build_practices()
        self._build_organisations()
        self._build_members()
        self._build_access()
        self.tabs.hide()
        ctx.events.changed.connect(self._on_changes)
        self.refresh()

    # --- loading ------------------------------------------------------------------------------

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches(*DIRECTORY_TABLES):
            self.refresh()

    def refresh(self) -> None:
        actor = self.ctx.actor

        def load(s: Any) -> tuple[bool, ts.Directory, str | None]:
            from int_desk.services import sync_link
            from int_desk.services.access import can

            return (
                can(s, actor, Permission.MANAGE_MEMBERS),
                ts.directory(s),
                sync_link.endpoint_url(s),
            )

        self.ctx.query(load, self._loaded, lambda exc: self._failed(None, exc))

    def _loaded(self, result: tuple[bool, ts.Directory, str | None]) -> None:
        self.allowed, self.d, self.endpoint = result
        self.tabs.setVisible(self.allowed)
        if not self.allowed:
            self.where.setText("")
            self.next_steps.setText(NOT_ALLOWED)
            self.refreshed.emit()
            return
        self.where.setText(
            f"Connected: changes go to your team's endpoint ({self.endpoint}), are checked and "
            "audited there, and reach every laptop when it syncs."
            if self.endpoint
            else "Standalone workspace: changes are made on this computer (and audited here)."
        )
        self.next_steps.setText(self._next_steps())
        self._show_teams()
        self._show_places()
        self._show_practices()
        self._show_organisations()
        self._show_members()
        self.access_intro.setText(
            "Invite a member: they enter your endpoint's address and the one-time code in INT "
            "Desk's first run (Connect to my team). Revoke a lost or retired laptop: its next "
            "sync is refused."
            if self.endpoint
            else "Devices and invitations belong to an endpoint. This workspace is standalone: "
            "see docs/go-live.md to set one up, then connect in Edit > Settings > Team endpoint."
        )
        for button in (self.invite_button, self.cancel_button, self.revoke_button):
            button.setEnabled(bool(self.endpoint))
        if self.endpoint:
            self.load_access()
        self.refreshed.emit()

    def _next_steps(self) -> str:
        d = self.d
        steps = []
        if not d.practices:
            steps.append("Add your team's GP practices (GP practices tab) by their ODS codes.")
        elif d.awaiting_names:
            codes = ", ".join(p.code or "" for p in d.awaiting_names[:6])
            steps.append(
                f"Name {len(d.awaiting_names)} GP practice"
                f"{'s' if len(d.awaiting_names) != 1 else ''} an import added: {codes}."
            )
        if any(not t.phone or not t.email for t in d.teams):
            steps.append("Add each team's phone and email: care plans print them for carers.")
        if len(d.members) <= 1:
            steps.append("Add your colleagues (Members tab) and put them in their team.")
        if not steps:
            return "The team's set-up is complete. Changes here are audited."
        return "Next: " + "  ".join(steps)

    # --- saving -------------------------------------------------------------------------------

    def _save(
        self,
        section: Section | None,
        entity: str,
        fields: dict[str, Any],
        then: Callable[[uuid.UUID], None] | None = None,
        *,
        row_id: uuid.UUID | None = None,
        version: int | None = None,
        validate: Callable[[], None] | None = None,
    ) -> None:
        """Save one row here or at the endpoint; errors go to the section's error line."""
        if section is not None:
            section.show_error("")
            row_id, version = section.row_id, section.version
        try:
            if validate is not None:
                validate()
        except ValidationError as exc:
            self._failed(section, exc)
            return
        actor = self.ctx.actor

        def done(new_id: uuid.UUID) -> None:
            if then is not None:
                then(new_id)
            self.saved.emit(entity)
            self._changed()

        if self.endpoint:
            from int_desk.services import sync_link

            ws = self.ctx.workspace
            if section is not None and row_id is not None and section.loaded:
                # Only what you changed: another administrator's other changes stay theirs.
                loaded = section.loaded
                fields = {k: v for k, v in fields.items() if blank(v) != blank(loaded.get(k))}
                if not fields:
                    section.show_error("Nothing to save: nothing was changed.")
                    return

            def remote() -> uuid.UUID:
                client = sync_link.team_admin(ws)
                return client.save(entity, row_id, fields, base_version=version)[0]

            self.ctx.tasks.run_network(remote, done, lambda exc: self._failed(section, exc))
        else:
            self.ctx.query(
                lambda s: ts.save(
                    session=s, actor=actor, entity=entity, row_id=row_id, fields=fields
                ),
                done,
                lambda exc: self._failed(section, exc),
            )

    def _changed(self) -> None:
        """After a change: a connected laptop fetches it back from the endpoint."""
        sync = getattr(self.window(), "sync", None)
        if self.endpoint and sync is not None:
            sync.start()

    def _failed(self, section: Section | None, exc: BaseException) -> None:
        from int_desk.services.sync_link import StaleEdit

        message = describe(exc)
        if isinstance(exc, StaleEdit) and section is not None:
            theirs = ", ".join(
                f"{k}: {v}" for k, v in sorted(exc.current.items())
                if k in ("name", "phone", "email", "neighbourhood", "code", "role") and v
            )  # fmt: skip
            message += f" Theirs: {theirs}. Save again to put yours in their place."
            section.loaded.update(exc.current)
            section.version = exc.version  # a second Save is a decision, made knowingly
            sync = getattr(self.window(), "sync", None)
            if sync is not None:
                sync.start()
        if section is not None:
            section.show_error(message)
        else:
            self.next_steps.setText(message)
        self.failed.emit(message)

    # --- teams --------------------------------------------------------------------------------

    def _build_teams(self) -> None:
        s = self.teams = Section(
            admin_table(["Team", "Place", "Neighbourhood", "Phone", "Email"], "Teams"),
            "Team",
            "New team",
        )
        self.team_name = QLineEdit()
        self.team_place = QComboBox()
        self.team_place.setEditable(True)
        self.team_place.lineEdit().setPlaceholderText("e.g. Oxfordshire (type a new one)")
        self.team_hood = QLineEdit()
        self.team_hood.setPlaceholderText("e.g. Bicester PCN")
        self.team_phone = QLineEdit()
        self.team_phone.setPlaceholderText("e.g. 01869 123456 (printed on care plans)")
        self.team_email = QLineEdit()
        self.team_email.setPlaceholderText("e.g. bicester.int@nhs.net (printed on care plans)")
        for label, w, name in (
            ("&Name", self.team_name, "Team name"),
            ("&Place", self.team_place, "Place"),
            ("Neigh&bourhood", self.team_hood, "Neighbourhood"),
            ("P&hone", self.team_phone, "Team phone"),
            ("&Email", self.team_email, "Team email"),
        ):
            w.setAccessibleName(name)
            s.form.addRow(label, w)
        s.table.itemSelectionChanged.connect(self._team_selected)
        s.new_button.clicked.connect(self._new_team)
        s.save_button.clicked.connect(self.save_team)
        self.tabs.addTab(s, "&Teams")

    def _show_teams(self) -> None:
        fill_table(
            self.teams.table,
            [(t.id, [t.name, t.place, t.neighbourhood, t.phone or "—", t.email or "—"])
             for t in self.d.teams],
        )  # fmt: skip
        current = self.team_place.currentText()
        self.team_place.clear()
        for p in self.d.places:
            self.team_place.addItem(p.name, p.id)
        self.team_place.setEditText(current)

    def _team_selected(self) -> None:
        team = next((t for t in self.d.teams if t.id == selected_key(self.teams.table)), None)
        if team is None:
            return
        self.teams.row_id, self.teams.version = team.id, team.version
        self.teams.loaded = {
            "name": team.name, "place_id": team.place_id, "neighbourhood": team.neighbourhood,
            "phone": team.phone, "email": team.email,
        }  # fmt: skip
        self.team_name.setText(team.name)
        self.team_place.setEditText(team.place)
        self.team_hood.setText(team.neighbourhood)
        self.team_phone.setText(team.phone)
        self.team_email.setText(team.email)
        self.teams.show_error("")

    def _new_team(self) -> None:
        self.teams.table.clearSelection()
        self.teams.row_id = self.teams.version = None
        self.teams.loaded = {}
        for w in (self.team_name, self.team_hood, self.team_phone, self.team_email):
            w.clear()
        self.team_name.setFocus()

    def save_team(self) -> None:
        place_name = self.team_place.currentText().strip()
        place = next((p for p in self.d.places if p.name == place_name), None)

        def fields(place_id: uuid.UUID) -> dict[str, Any]:
            return {
                "name": self.team_name.text(), "place_id": place_id,
                "neighbourhood": self.team_hood.text(), "phone": self.team_phone.text(),
                "email": self.team_email.text(),
            }  # fmt: skip

        def validate() -> None:
            ref.name(place_name, "place", "place_id", limit=120)
            ts.team_values(**fields(uuid.uuid4()))

        if place is None and place_name:  # a new place first, then the team in it
            try:
                validate()
            except ValidationError as exc:
                self._failed(self.teams, exc)
                return
            self._save(
                None, "place", {"name": place_name},
                lambda pid: self._save(self.teams, "team", fields(pid)),
                row_id=None, version=None,
            )  # fmt: skip
            return
        self._save(
            self.teams, "team", fields(place.id if place else uuid.uuid4()), validate=validate
        )

    # --- GP practices -------------------------------------------------------------------------

    # --- places -------------------------------------------------------------------------------

    def _build_places(self) -> None:
        s = self.places = Section(admin_table(["Place", "Teams"], "Places"), "Place", "New place")
        self.place_name = QLineEdit()
        self.place_name.setPlaceholderText("e.g. Oxfordshire")
        self.place_name.setAccessibleName("Place name")
        s.form.addRow("&Name", self.place_name)
        s.table.itemSelectionChanged.connect(self._place_selected)
        s.new_button.clicked.connect(self._new_place)
        s.save_button.clicked.connect(self.save_place)
        self.tabs.addTab(s, "&Places")

    def _show_places(self) -> None:
        teams: dict[uuid.UUID, list[str]] = {}
        for t in self.d.teams:
            teams.setdefault(t.place_id, []).append(t.name)
        fill_table(
            self.places.table,
            [(p.id, [p.name, ", ".join(teams.get(p.id, []))]) for p in self.d.places],
        )

    def _place_selected(self) -> None:
        place = next((p for p in self.d.places if p.id == selected_key(self.places.table)), None)
        if place is None:
            return
        self.places.row_id, self.places.version = place.id, None
        self.places.loaded = {"name": place.name}
        self.place_name.setText(place.name)
        self.places.show_error("")

    def _new_place(self) -> None:
        self.places.table.clearSelection()
        self.places.row_id = self.places.version = None
        self.places.loaded = {}
        self.place_name.clear()
        self.place_name.setFocus()

    def save_place(self) -> None:
        name = self.place_name.text()
        self._save(
            self.places, "place", {"name": name},
            validate=lambda: ref.name(name, "place's name", limit=120) and None,
        )  # fmt: skip

    def _build_practices(self) -> None:
        s = self.practices = Section(
            admin_table(["ODS code", "Practice", "Status"], "GP practices"),
            "GP practice",
            "New practice",
        )
        self.practice_code = QLineEdit()
        self.practice_code.setPlaceholderText("e.g. K84001")
        self.practice_name = QLineEdit()
        self.practice_name.setPlaceholderText("e.g. Bicester Health Centre")
        for label, w, name in (
            ("ODS &code", self.practice_code, "Practice ODS code"),
            ("&Name", self.practice_name, "Practice name"),
        ):
            w.setAccessibleName(name)
            s.form.addRow(label, w)
        s.table.itemSelectionChanged.connect(self._practice_selected)
        s.new_button.clicked.connect(self._new_practice)
        s.save_button.clicked.connect(self.save_practice)
        self.tabs.addTab(s, "&GP practices")

    def _show_practices(self) -> None:
        fill_table(
            self.practices.table,
            [(o.id, [o.code or "", o.name or "—", "awaiting a name" if o.awaiting_name else ""])
             for o in self.d.practices],
        )  # fmt: skip

    def _practice_selected(self) -> None:
        org = next(
            (o for o in self.d.practices if o.id == selected_key(self.practices.table)), None
        )
        if org is None:
            return
        self.practices.row_id, self.practices.version = org.id, org.version
        self.practices.loaded = {"name": org.name, "kind": org.kind.value, "code": org.code}
        self.practice_code.setText(org.code or "")
        self.practice_name.setText(org.name)
        (self.practice_name if org.awaiting_name else self.practice_code).setFocus()
        self.practices.show_error("")

    def _new_practice(self) -> None:
        self.practices.table.clearSelection()
        self.practices.row_id = self.practices.version = None
        self.practices.loaded = {}
        self.practice_code.clear()
        self.practice_name.clear()
        self.practice_code.setFocus()

    def save_practice(self) -> None:
        code, name = self.practice_code.text(), self.practice_name.text()

        def validate() -> None:
            canonical = ref.practice_code(code)
            ref.name(name, "practice's name")
            clash = next((o for o in self.d.organisations if o.code == canonical), None)
            if clash is not None and clash.id != self.practices.row_id:
                raise ValidationError(
                    f"{canonical} is already the code of {clash.label}; one ODS code is one "
                    "practice. Choose it in the list to change it.",
                    "code",
                )

        fields = {"name": name, "kind": OrganisationKind.GP_PRACTICE.value, "code": code}
        self._save(self.practices, "organisation", fields, validate=validate)

    # --- partner organisations ----------------------------------------------------------------

    def _build_organisations(self) -> None:
        s = self.organisations = Section(
            admin_table(["Organisation", "Kind", "ODS code"], "Organisations"),
            "Organisation",
            "New organisation",
        )
        self.org_name = QLineEdit()
        self.org_kind = QComboBox()
        for kind, label in ref.ORGANISATION_KIND_LABELS.items():
            if kind != OrganisationKind.GP_PRACTICE:
                self.org_kind.addItem(label, kind.value)
        self.org_code = QLineEdit()
        self.org_code.setPlaceholderText("optional, e.g. RNU")
        for label, w, name in (
            ("&Name", self.org_name, "Organisation name"),
            ("&Kind", self.org_kind, "Kind of organisation"),
            ("ODS &code", self.org_code, "Organisation ODS code"),
        ):
            w.setAccessibleName(name)
            s.form.addRow(label, w)
        s.table.itemSelectionChanged.connect(self._org_selected)
        s.new_button.clicked.connect(self._new_org)
        s.save_button.clicked.connect(self.save_organisation)
        self.tabs.addTab(s, "&Organisations")

    def _partners(self) -> list[ts.OrganisationInfo]:
        return [o for o in self.d.organisations if o.kind != OrganisationKind.GP_PRACTICE]

    def _show_organisations(self) -> None:
        fill_table(
            self.organisations.table,
            [(o.id, [o.name, ref.ORGANISATION_KIND_LABELS[o.kind], o.code or ""])
             for o in self._partners()],
        )  # fmt: skip

    def _org_selected(self) -> None:
        key = selected_key(self.organisations.table)
        org = next((o for o in self._partners() if o.id == key), None)
        if org is None:
            return
        self.organisations.row_id, self.organisations.version = org.id, org.version
        self.organisations.loaded = {"name": org.name, "kind": org.kind.value, "code": org.code}
        self.org_name.setText(org.name)
        self.org_kind.setCurrentIndex(max(0, self.org_kind.findData(org.kind.value)))
        self.org_code.setText(org.code or "")

    def _new_org(self) -> None:
        self.organisations.table.clearSelection()
        self.organisations.row_id = self.organisations.version = None
        self.organisations.loaded = {}
        self.org_name.clear()
        self.org_code.clear()
        self.org_name.setFocus()

    def save_organisation(self) -> None:
        kind = str(self.org_kind.currentData())
        fields = {"name": self.org_name.text(), "kind": kind, "code": self.org_code.text() or None}

        def validate() -> None:
            ref.name(self.org_name.text(), "organisation's name")
            ref.organisation_code(self.org_code.text() or None, kind)

        self._save(self.organisations, "organisation", fields, validate=validate)

    # --- members ------------------------------------------------------------------------------

    def _build_members(self) -> None:
        s = self.members = Section(
            admin_table(["Name", "Role", "Organisation", "Teams", "Status"], "Members"),
            "Member",
            "New member",
        )
        self.member_name = QLineEdit()
        self.member_role = QComboBox()
        for role in sorted(Role, key=lambda r: r.label):
            self.member_role.addItem(role.label, role.value)
        self.member_org = QComboBox()
        self.member_email = QLineEdit()
        self.member_email.setPlaceholderText("optional")
        self.member_teams = QListWidget()
        self.member_teams.setMaximumHeight(110)
        for label, w, name in (
            ("&Name", self.member_name, "Member name"),
            ("&Role", self.member_role, "Role"),
            ("Or&ganisation", self.member_org, "Organisation they work for"),
            ("&Email", self.member_email, "Member email"),
            ("&Teams", self.member_teams, "Teams they are in"),
        ):
            w.setAccessibleName(name)
            s.form.addRow(label, w)
        self.remove_button = QPushButton("Remove from the team…")
        self.remove_button.clicked.connect(self.remove_member)
        self.member_invite_button = QPushButton("&Invite…")
        self.member_invite_button.setToolTip("A one-time code for their laptop (connected only)")
        self.member_invite_button.clicked.connect(self.invite_selected)
        extra = QHBoxLayout()
        extra.addWidget(self.member_invite_button)
        extra.addWidget(self.remove_button)
        s.form.addRow(extra)
        s.table.itemSelectionChanged.connect(self._member_selected)
        s.new_button.clicked.connect(self._new_member)
        s.save_button.clicked.connect(self.save_member)
        self.tabs.addTab(s, "&Members")

    def _show_members(self) -> None:
        names = {t.id: t.name for t in self.d.teams}
        fill_table(
            self.members.table,
            [(m.id, [m.name + (" (you)" if m.id == self.d.signed_in else ""), m.role.label,
                     m.organisation, ", ".join(sorted(names.get(t, "?") for t in m.team_ids)),
                     "" if m.active else "removed"])
             for m in self.d.members],
        )  # fmt: skip
        self.member_org.clear()
        self.member_org.addItem("—", None)
        for o in self.d.organisations:
            if not o.awaiting_name:
                self.member_org.addItem(o.label, o.id)
        self.member_teams.clear()
        for t in self.d.teams:
            item = QListWidgetItem(t.name)
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.member_teams.addItem(item)
        self.member_invite_button.setEnabled(bool(self.endpoint))

    def _member(self) -> ts.MemberInfo | None:
        return self.d.member(self.members.row_id)

    def _member_selected(self) -> None:
        m = self.d.member(selected_key(self.members.table))
        if m is None:
            return
        self.members.row_id, self.members.version = m.id, m.version
        self.members.loaded = {
            "name": m.name, "role": m.role.value, "organisation_id": m.organisation_id,
            "email": m.email,
        }  # fmt: skip
        self.member_name.setText(m.name)
        self.member_role.setCurrentIndex(max(0, self.member_role.findData(m.role.value)))
        self.member_org.setCurrentIndex(max(0, self.member_org.findData(m.organisation_id)))
        self.member_email.setText(m.email)
        for i in range(self.member_teams.count()):
            item = self.member_teams.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in m.team_ids
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.members.show_error("")

    def _new_member(self) -> None:
        self.members.table.clearSelection()
        self.members.row_id = self.members.version = None
        self.members.loaded = {}
        self.member_name.clear()
        self.member_email.clear()
        self.member_org.setCurrentIndex(0)
        for i in range(self.member_teams.count()):
            self.member_teams.item(i).setCheckState(Qt.CheckState.Unchecked)
        self.member_name.setFocus()

    def _checked_teams(self) -> set[uuid.UUID]:
        return {
            self.member_teams.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.member_teams.count())
            if self.member_teams.item(i).checkState() == Qt.CheckState.Checked
        }

    def save_member(self) -> None:
        fields = {
            "name": self.member_name.text(), "role": str(self.member_role.currentData()),
            "organisation_id": self.member_org.currentData(), "email": self.member_email.text(),
        }  # fmt: skip
        before = self._member()
        wanted = self._checked_teams()

        def validate() -> None:
            ref.name(self.member_name.text(), "person's name")
            ref.email(self.member_email.text())

        def memberships(member_id: uuid.UUID) -> None:
            had = set(before.team_ids) if before else set()
            for team_id in sorted(wanted ^ had):
                self._membership(team_id, member_id, team_id in wanted)

        self._save(self.members, "member", fields, memberships, validate=validate)

    def _membership(self, team_id: uuid.UUID, member_id: uuid.UUID, member: bool) -> None:
        actor = self.ctx.actor
        if self.endpoint:
            from int_desk.services import sync_link

            ws = self.ctx.workspace

            def remote() -> None:
                client = sync_link.team_admin(ws)
                client.membership(team_id, member_id, member=member)

            self.ctx.tasks.run_network(
                remote, lambda _r: self._changed(), lambda e: self._failed(self.members, e)
            )
            return
        self.ctx.query(
            lambda s: ts.set_membership(
                session=s, actor=actor, team_id=team_id, member_id=member_id, member=member
            ),
            lambda _r: self._changed(),
            lambda e: self._failed(self.members, e),
        )

    def remove_member(self) -> None:
        m = self._member()
        if m is None:
            self.members.show_error("Choose the member to remove in the list first.")
            return
        if m.id == self.d.signed_in:
            self.members.show_error("You cannot remove yourself; ask another administrator.")
            return
        if not confirm(
            self,
            "Remove from the team?",
            f"{m.name} will be taken out of every team and can no longer sync: their laptops' "
            "access is withdrawn. Their past work stays in the record, attributed to them. "
            "Changes they made offline and had not sent stay on their laptop (see docs/go-live.md).",
            ok="Remove",
        ):
            return
        for team_id in m.team_ids:
            self._membership(team_id, m.id, False)
        self._save(
            self.members, "member",
            {"name": m.name, "role": m.role.value, "organisation_id": m.organisation_id,
             "email": m.email, "active": False},
        )  # fmt: skip
