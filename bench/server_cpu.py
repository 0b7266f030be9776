"""The CPU seconds a local PostgreSQL server has used, for the benches' "server CPU" column.

On a shared machine the wall clock counts the time other processes had the cores; the bench
process's CPU leaves out the work the server does for it (inserts, index upkeep, foreign-key
checks at commit). This adds up the server's processes from /proc: the postmaster, its live
children (backends, writer, WAL writer, autovacuum) and the children it has reaped (a closed
connection's backend). None when the server is not on this machine or not readable.
"""

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # the fields after "(command)"


def _postmaster(connection) -> int | None:
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            (data_dir,) = cursor.fetchone()
        return int(Path(data_dir, "postmaster.pid").read_text().split()[0])
    except Exception:  # not superuser, another machine, unreadable: no figure
        return None


def server_cpu(connection) -> float | None:
    """The server's CPU seconds so far; subtract two readings."""
    pid = _postmaster(connection)
    if pid is None:
        return None
    try:
        fields = _stat(pid)
        # utime, stime, cutime, cstime are fields 14–17 of /proc/PID/stat (11–14 after the name).
        ticks = sum(int(v) for v in fields[11:15])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for child in children:
            try:
                ticks += sum(int(v) for v in _stat(int(child))[11:13])
            except OSError:  # ended meanwhile (then counted in cutime)
                continue
    except OSError:
        return None
    return ticks / _TICKS
