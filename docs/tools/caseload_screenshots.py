"""Screenshots of the caseload desk on a demo workspace (passphrase "benchmark passphrase",
e.g. the one tests/benchmarks/harness.demo_workspace builds):

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/tools/caseload_screenshots.py WS_DIR OUT_DIR
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("INT_DESK_HOME", str(Path(sys.argv[2]) / "home"))
from PySide6.QtCore import QEventLoop, QTimer

from int_desk.app.main import create_app, make_context
from int_desk.app.main_window import MainWindow
from int_desk.store.workspace import Workspace

ws_dir = Path(sys.argv[1])
out = Path(sys.argv[2])
out.mkdir(exist_ok=True)
app = create_app()
ws = Workspace.open(ws_dir, "benchmark passphrase", use_keyring=False)
ctx = make_context(ws)
w = MainWindow(ctx)
w.resize(1366, 768)
w.showMaximized() if False else w.show()
w.setGeometry(0, 0, 1366, 768)


def spin(ms):
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait(cond, ms=20000):
    t = time.time()
    while not cond() and time.time() - t < ms / 1000:
        spin(50)


page = w.pages["CaseloadPage"]
wait(lambda: page.model.rowCount() > 0)
page.ctx.tasks.wait()
page.search.setText("smith")
wait(lambda: page.model.rowCount() < 2000)
spin(500)
row = next(
    r
    for r in range(page.model.rowCount())
    if page.model.row_at(r).review_overdue(__import__("datetime").date.today())
)
page.table.selectRow(row)
wait(lambda: page.record is not None)
spin(500)
w.grab().save(str(out / "caseload-patient-open.png"))
# import preview with errors
bad = out / "bad.csv"
bad.write_text(
    "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code,Reason for inclusion\n"
    "999 476 5914,Ann,Example,01/02/1940,OX26 1AB,X90000,Frailty eFI severe\n"
    "1234567890,Bob,Bad,01/02/1940,OX26 1AB,X90000,x\n"
    "999 476 5876,Cy,Dated,31/02/1940,OX26 1AB,X90000,x\n"
    "999 476 5914,Ann,Example,01/02/1940,OX26 1AB,X90000,dup\n"
    "999 476 5841,Di,Nowhere,05/05/1950,OX26 2AB,ZZ999,x\n"
    "999 476 5833,Ed,Good,05/05/1950,OX26 3AB,X90001,Multimorbidity\n",
    encoding="utf-8",
)
page.open_import()
d = page.import_dialog
wait(lambda: d.cohort_combo.count() > 0)
d.load_file(bad)
d.run_preview()
wait(lambda: d.preview is not None)
spin(300)
d.grab().save(str(out / "import-preview-errors.png"))
d.close()
w.show_page("MyTasksPage")
mt = w.pages["MyTasksPage"]
wait(lambda: mt.model.rowCount() > 0)
spin(300)
w.grab().save(str(out / "my-tasks.png"))
print("ok")  # noqa: T201
w.close()
