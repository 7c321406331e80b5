"""Hearth imports without SQLAlchemy's asyncio extension, which would need greenlet."""

from __future__ import annotations

import subprocess
import sys

HIDE_GREENLET = "import sys; sys.modules['greenlet'] = None; import assistant.cli, assistant.app"


def test_the_package_imports_without_greenlet() -> None:
    done = subprocess.run([sys.executable, "-c", HIDE_GREENLET], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
