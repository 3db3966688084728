"""Builds Onsite's compiled search core (``optimizer._core``) with the machine's C++ compiler.

Everything else about the package is in ``pyproject.toml``; this file only declares the
extension and turns a missing compiler into an error that says what to install.
"""

from __future__ import annotations

import shutil
import sysconfig

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

_NO_COMPILER = (
    "Onsite's search core (optimizer/_core.cpp) is C++ and is compiled when the package is "
    "installed, but no C++ compiler was found. Install one (Debian/Ubuntu: "
    "`apt-get install g++`; Fedora: `dnf install gcc-c++`; macOS: `xcode-select --install`) "
    "and the Python headers (`python3-dev`), then run the install again."
)


class BuildCore(build_ext):
    """``build_ext`` that fails with a clear message when there is no working C++ compiler."""

    def build_extensions(self) -> None:
        compiler = self.compiler.compiler_cxx if hasattr(self.compiler, "compiler_cxx") else None
        program = compiler[0] if compiler else (sysconfig.get_config_var("CXX") or "c++")
        if shutil.which(program.split()[0]) is None:
            raise SystemExit(_NO_COMPILER + f" (looked for `{program}`)")
        try:
            super().build_extensions()
        except Exception as exc:
            raise SystemExit(f"{_NO_COMPILER}\nThe compiler said: {exc}") from exc


setup(
    ext_modules=[
        Pybind11Extension(
            "optimizer._core",
            ["optimizer/_core.cpp"],
            cxx_std=17,
            extra_compile_args=["-O2"],
        )
    ],
    cmdclass={"build_ext": BuildCore},
)
