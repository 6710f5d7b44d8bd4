"""Rows streamed into a Postgres table with `COPY … FROM STDIN`, inside the caller's transaction.

COPY is Postgres's bulk path: one statement and one stream of rows, instead of one bound
statement per row (the executemany it replaced saved 100,000 points about ten times slower,
see `bench/save_points.py`). It runs on the DBAPI connection under the SQLAlchemy one, so it
commits or rolls back with everything else the caller did in that transaction.

The rows travel as CSV written by Python's `csv` module. Postgres's CSV reader is the mirror
of that writer (RFC 4180: a field holding the delimiter, a quote or a line break is quoted,
quotes are doubled, nothing else is special, a backslash included), so no hand-written escaping
stands between a value and the table. The text format would need our own escaping of
backslashes, tabs, line breaks and `\\N` — exactly the values that go wrong in hand-written
code. The `csv` writer is also in C, and the rows are written piece by piece as the driver
reads them, so the server stores one piece while the next is written.
"""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

# Rows per piece of CSV handed to the driver (about 100 KB of points): small enough that the
# server starts early and only one piece is in memory, big enough to cost few Python calls.
ROWS_PER_PIECE = 1_000


class _CsvStream:
    """The file the driver reads the COPY data from: CSV pieces written as they are asked for."""

    def __init__(self, rows: Iterable[Sequence[Any]]):
        self._rows: Iterator[Sequence[Any]] = iter(rows)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def read(self, _size: int = -1) -> bytes:
        """The next piece, UTF-8 (b'' at the end); the driver sends whatever length it gets."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerows(itertools.islice(self._rows, ROWS_PER_PIECE))
        return self._buffer.getvalue().encode()


def copy_rows(
    conn: sa.Connection,
    table: sa.TableClause,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    not_null: Sequence[str] = (),
) -> None:
    """COPY `rows` (tuples in `columns` order) into `table`.

    Values are written as `str()` gives them (floats as their shortest exact repr, naive
    datetimes as ISO-8601 text, which a `timestamp` column reads as is). None is an unquoted
    empty field, which CSV COPY reads as NULL; so is an empty string, unless its column is in
    `not_null`, whose empty fields are read as empty strings.
    """
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(map(preparer.quote, columns))
    # Bytes in a named encoding: the connection's client encoding plays no part.
    options = "FORMAT csv, ENCODING 'UTF8'"
    if not_null:
        options += f", FORCE_NOT_NULL ({', '.join(map(preparer.quote, not_null))})"
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN WITH ({options})"
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None  # an open SQLAlchemy connection always has one
    cursor = dbapi_connection.cursor()
    try:
        cursor.copy_expert(statement, _CsvStream(rows))
    except conn.dialect.loaded_dbapi.Error as error:
        # The same exception classes as a statement run through SQLAlchemy (IntegrityError,
        # DataError, …), so callers need not know which path wrote their rows.
        raise exc.DBAPIError.instance(
            statement, None, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from error
    finally:
        cursor.close()


def staging_table(conn: sa.Connection, table: sa.Table, columns: Sequence[str]) -> sa.TableClause:
    """A new temporary table with these columns of `table` (same types, no constraints),
    dropped when the transaction ends, committed or rolled back."""
    name = f"staged_{table.name}"
    source = sa.select(*(table.c[column] for column in columns))
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "
        f"{source.compile(conn, compile_kwargs={'literal_binds': True})} WITH NO DATA"
    )
    return sa.table(name, *(sa.column(column) for column in columns))
