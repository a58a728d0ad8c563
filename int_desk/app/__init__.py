"""The Qt layer: the only package that imports PySide6.

PySide6 6.12.0 on CPython 3.11 drops a reference to ``None`` on every void Qt call, and the
process aborts ("none_dealloc") after some tens of thousands of calls; pyproject.toml therefore
pins PySide6-Essentials below 6.12. tests/test_qt_none_guard.py fails if a leaking build returns.
"""
