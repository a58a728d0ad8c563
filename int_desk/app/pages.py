"""The sections of the main window, in navigation order: "module:Class" strings.

A page class takes ``(ctx: AppContext, parent)``, and has class attributes ``title`` and
``shortcut`` (e.g. "Ctrl+1" or None). Add yours here; the window builds them in order.
"""

PAGES: list[str] = [
    "int_desk.app.caseload_page:CaseloadPage",
    "int_desk.app.my_tasks_page:MyTasksPage",
    "int_desk.app.overview_page:OverviewPage",
    "int_desk.app.audit_page:AuditPage",
    "int_desk.app.huddle_page:HuddlePage",
    "int_desk.app.scorecard_page:ScorecardPage",
    "int_desk.app.conflicts_page:ConflictsPage",
    "int_desk.app.administration_page:AdministrationPage",
]
