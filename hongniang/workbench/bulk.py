"""Inserting many rows at once (an import's 100,000 members and their history, the engine's change
log), inside the caller's transaction, from rows already in the database's form.

PostgreSQL takes them through ``COPY … FROM STDIN``: one statement streams every row, where
``executemany`` — even pipelined — has the server parse, plan and answer one INSERT per row (the
import's confirm spent most of its time waiting on that). Other databases (SQLite) use
``executemany`` in batches: SQLite runs it as one prepared statement in a C loop.

Either way a failure raises inside the caller's transaction, so nothing of it is kept.
"""

from collections.abc import Iterable, Sequence

from django.db import connections

EXECUTE_BATCH = 5000  # rows per executemany


def insert_rows(
    table: str, columns: Sequence[str], rows: Iterable[Sequence], *, using: str = "default"
) -> None:
    """Insert ``rows`` (sequences of values in the order of ``columns``, each value what the
    field's ``get_db_prep_save`` gives) into ``table``."""
    connection = connections[using]
    qn = connection.ops.quote_name
    names = ", ".join(qn(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg 3: the driver's cursor under Django's wrapper formats each row in C; its
            # errors are turned into Django's (IntegrityError, …) as the wrapper's would be.
            sql = f"COPY {qn(table)} ({names}) FROM STDIN"  # noqa: S608 - model names
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {qn(table)} ({names}) VALUES ({marks})"  # noqa: S608 - model names
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == EXECUTE_BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
