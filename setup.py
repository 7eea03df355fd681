"""Only one thing pyproject.toml cannot say: copy the top-level `resources/` (PDF fonts, icon)
into the package when a wheel is built, so that a wheel install finds them through
`gandrange_desk.paths` as a checkout and the frozen program do. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self):
        super().run()
        source = ROOT / "resources"
        if source.is_dir():
            target = Path(self.build_lib) / "gandrange_desk" / "resources"
            shutil.copytree(source, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithResources})
