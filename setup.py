"""Setuptools hook (everything else is in pyproject.toml).

A wheel carries ui/, resources/ and migrations/ inside the package as ``int_desk/_data/``, which
``int_desk.paths.bundle_root()`` finds. An editable install (``pip install -e .``, what
``.ci/setup`` does) reads them from the checkout instead, so nothing is copied then.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_DIRS = ("ui", "resources", "migrations")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "int_desk" / "_data"
        for name in DATA_DIRS:
            for src in sorted((root / name).rglob("*")):
                if src.is_file() and "__pycache__" not in src.parts and src.suffix != ".pyc":
                    dest = target / name / src.relative_to(root / name)
                    self.mkpath(str(dest.parent))
                    self.copy_file(str(src), str(dest))


setup(cmdclass={"build_py": BuildPyWithData})
