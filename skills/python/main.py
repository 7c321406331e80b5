"""Run a snippet in a fresh interpreter and return what it printed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from typing import Any

SNIPPET_TIMEOUT_S = 10
OUTPUT_LIMIT_BYTES = 20_000


def read_capped(handle: Any) -> str:
    handle.seek(0)
    data: bytes = handle.read(OUTPUT_LIMIT_BYTES + 1)
    text = data[:OUTPUT_LIMIT_BYTES].decode("utf-8", errors="replace")
    return text + ("\n[output cut]" if len(data) > OUTPUT_LIMIT_BYTES else "")


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    """Print-output of `args["code"]`; raises with the traceback's tail when the snippet fails."""
    # Output goes to files on the size-limited /tmp so a flood cannot exhaust memory.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            completed = subprocess.run(
                [sys.executable, "-I", "-c", args["code"]],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=tempfile.gettempdir(),
                timeout=SNIPPET_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"the snippet ran longer than {SNIPPET_TIMEOUT_S} s") from None
        if completed.returncode != 0:
            raise RuntimeError(read_capped(err)[-2000:].strip() or "the snippet failed")
        return read_capped(out) or "(the snippet printed nothing)"
