"""Another program holding an SQLite database's exclusive lock for a while, as a backup tool or the
sqlite3 shell might: `python -m tests.faults.locker PATH SECONDS` takes it when a line arrives on its
standard input (so the lock can be timed to a moment), and prints `locked` once it holds it.

In WAL mode (Hearth's) `BEGIN EXCLUSIVE` keeps every other writer out; readers go on."""

from __future__ import annotations

import sqlite3
import sys
import time


def main(argv: list[str]) -> None:
    path, seconds = argv[0], float(argv[1])
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    sys.stdin.readline()
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1:])
