"""What every view needs: the open workspace, the signed-in member, events and the task runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings

from int_desk.app.events import Events
from int_desk.app.tasks import TaskRunner
from int_desk.domain.actor import Actor

if TYPE_CHECKING:
    from int_desk.store.workspace import Workspace


@dataclass
class AppContext:
    workspace: Workspace
    actor: Actor
    events: Events
    tasks: TaskRunner
    settings: QSettings

    def __post_init__(self) -> None:
        self.events.watch(self.workspace.changes)  # views hear of every commit to the store

    def use_workspace(self, workspace: Workspace) -> None:
        """After an unlock: the reopened workspace, its commits relayed as before."""
        self.workspace = workspace
        self.events.watch(workspace.changes)

    def query(
        self,
        op: Callable[[Any], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``op(session)`` in one unit of work on the store worker."""

        def work() -> Any:
            with self.workspace.session() as s:
                return op(s)

        self.tasks.run(work, on_done, on_error)
