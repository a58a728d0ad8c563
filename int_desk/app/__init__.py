"""The Qt layer: the only package that imports PySide6.

PySide6 6.12.0 on CPython 3.11 drops one reference to ``None`` on every call of a Qt function
that returns void (``label.setText(...)``, ``QTimer.singleShot``, ``processEvents`` ...): the
binding returns ``Py_None`` without taking a reference. On 3.12+ ``None`` is immortal (PEP 683)
and nothing happens; on 3.11 its count runs down until the process aborts with "Fatal Python
error: none_dealloc" - after some tens of thousands of calls, i.e. during a long session or test
run. Until a fixed PySide6 is in use, make ``None`` effectively immortal here, as 3.12 does.
Importing any ``int_desk.app`` module runs this first. tests/test_qt_none_guard.py checks it.
"""

import sys

if sys.implementation.name == "cpython" and sys.version_info < (3, 12):
    import ctypes

    _none_refcount = ctypes.c_ssize_t.from_address(id(None))
    if _none_refcount.value < 1 << 40:
        _none_refcount.value += 1 << 60  # decrements by the binding can never reach zero
