import sqlite3

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_variable_limit(sender, connection, **kwargs):
    """Tell Django the real number of variables an SQLite statement may hold.

    Django assumes SQLite's old compile-time default of 999, so a bulk insert into a 70-column
    table goes out 14 rows per statement; SQLite has allowed 32,766 since 3.32 (Debian: more).
    With the real limit an import of 100,000 members needs hundreds of statements, not
    thousands.
    """
    if connection.vendor == "sqlite":
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        connection.features.max_query_params = limit


class WorkbenchConfig(AppConfig):
    name = "hongniang.workbench"
    label = "workbench"

    def ready(self):
        from hongniang.workbench import lookups  # noqa: F401 - registers the integer `in`

        connection_created.connect(_sqlite_variable_limit, dispatch_uid="workbench_sqlite_limit")
