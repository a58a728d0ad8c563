"""The administration page's Devices and invitations tab (a connected workspace): who has a device
or an invitation, invite a member (a one-time code), withdraw an invitation, revoke a device. All
of it is asked of the endpoint, on the network thread.

``AccessAdministration`` is a part of ``AdministrationPage`` (its base class), kept in a file of
its own; it uses the page's state declared below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.administration_widgets import (
    Section,
    admin_table,
    fill_table,
    london_text,
    selected_key,
)
from int_desk.app.context import AppContext
from int_desk.app.messages import confirm, describe
from int_desk.services import team_setup as ts


class AccessAdministration(QWidget):
    """The Devices and invitations tab of ``AdministrationPage``."""

    # The page's state and calls, used here (set and defined by AdministrationPage).
    ctx: AppContext
    tabs: QTabWidget
    members: Section
    d: ts.Directory
    endpoint: str | None
    failed: Any
    refreshed: Any

    def _member(self) -> ts.MemberInfo | None:
        raise NotImplementedError  # AdministrationPage's

    def _build_access(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.access_intro = QLabel("")
        self.access_intro.setWordWrap(True)
        self.access_table = admin_table(
            ["Kind", "Member", "Label", "Made", "Last used", "State"], "Devices and invitations"
        )
        self.invite_button = QPushButton("&Invite a member…")
        self.invite_button.clicked.connect(self.invite_selected)
        self.cancel_button = QPushButton("&Withdraw invitation")
        self.cancel_button.clicked.connect(self.cancel_invitation)
        self.revoke_button = QPushButton("&Revoke device…")
        self.revoke_button.clicked.connect(self.revoke_device)
        self.access_error = QLabel("")
        self.access_error.setObjectName("errorText")
        self.access_error.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.invite_button, self.cancel_button, self.revoke_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addWidget(self.access_intro)
        layout.addWidget(self.access_table, 1)
        layout.addWidget(self.access_error)
        layout.addLayout(buttons)
        self.access_items: list[dict[str, Any]] = []
        self.tabs.addTab(page, "&Devices and invitations")

    def _client_call(self, op: Callable[[Any], Any], done: Callable[[Any], None]) -> None:
        from int_desk.services import sync_link

        ws = self.ctx.workspace

        def call() -> Any:
            client = sync_link.team_admin(ws)
            return op(client)

        def failed(exc: BaseException) -> None:
            self.access_error.setText(describe(exc))
            self.failed.emit(describe(exc))

        self.access_error.setText("")
        self.ctx.tasks.run_network(call, done, failed)

    def load_access(self) -> None:
        def shown(items: list[dict[str, Any]]) -> None:
            self.access_items = items
            fill_table(
                self.access_table,
                [(i["id"], ["Invitation" if i["kind"] == "invitation" else "Device",
                            str(i.get("member") or ""), str(i.get("label") or ""),
                            london_text(i.get("created_at")),
                            london_text(i.get("last_used_at"), day=True),
                            str(i["state"])])
                 for i in items],
            )  # fmt: skip
            self.refreshed.emit()

        self._client_call(lambda c: c.access(), shown)

    def invite_selected(self) -> None:
        m = self._member()
        if m is None and self.tabs.currentWidget() is not self.members:
            from PySide6.QtWidgets import QInputDialog

            names = [x.name for x in self.d.members if x.active]
            name, ok = QInputDialog.getItem(self, "Invite a member", "Member", names, 0, False)
            m = next((x for x in self.d.members if x.name == name), None) if ok else None
        if m is None:
            self.members.show_error("Choose the member to invite in the list first.")
            return
        member = m

        def made(result: tuple[str, str]) -> None:
            code, expires = result
            self.last_code = code
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Invitation",
                f"Invitation code for {member.name}:\n\n    {code}\n\nGive it to them with your "
                f"endpoint's address ({self.endpoint}). It works once, until "
                f"{london_text(expires)}. It is not shown again.",
                parent=self,
            )
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setModal(False)
            box.show()
            self.invitation_box = box
            self.load_access()

        self._client_call(lambda c: c.invite(member.id), made)

    def _access_selected(self, kind: str) -> dict[str, Any] | None:
        key = selected_key(self.access_table)
        item = next((i for i in self.access_items if i["id"] == key), None)
        if item is None or item["kind"] != kind:
            self.access_error.setText(
                f"Choose {'an invitation' if kind == 'invitation' else 'a device'} in the list first."
            )
            return None
        return item

    def cancel_invitation(self) -> None:
        item = self._access_selected("invitation")
        if item is not None:
            self._client_call(
                lambda c: c.cancel_invitation(item["id"]), lambda _r: self.load_access()
            )

    def revoke_device(self) -> None:
        item = self._access_selected("device")
        if item is None:
            return
        if not confirm(
            self,
            "Revoke this device?",
            f"{item.get('member')}'s device '{item.get('label')}' will be refused at its next "
            "sync. Its encrypted copy stays on it, locked by its passphrase; changes made on it "
            "and not yet sent stay there and are not lost (see docs/go-live.md).",
            ok="Revoke",
        ):
            return
        self._client_call(lambda c: c.revoke_device(item["id"]), lambda _r: self.load_access())
