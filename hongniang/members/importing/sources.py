"""Reading an uploaded member file: .xlsx/.xlsm/.xls/.ods (python-calamine) or .csv/.txt (any
of UTF-8 with or without a byte-order mark, UTF-16, GB18030/GBK, Big5), with the header row found
below any title rows and the sheet that holds the members picked (or chosen by the clerk).

``open_source(path)`` reads only the first rows to find the sheet and the header;
``Source.iter_rows()`` then streams the member rows, one list of raw cell values per row.
"""

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path

import python_calamine
from charset_normalizer import from_bytes
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hongniang.members.excel import MAX_FILE_MB, MAX_ROWS
from hongniang.members.importing.synonyms import header_key

MAX_COLUMNS = 200
HEADER_SEARCH_ROWS = 20  # title rows above the header are looked for this far down
EXAMPLE_SEARCH_ROWS = 3  # the template's example row sits right below the header

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
SUFFIXES = SPREADSHEET_SUFFIXES + TEXT_SUFFIXES
ACCEPT = ",".join(SUFFIXES)

# The template's example member (excel._example_row): a row holding both is never imported.
EXAMPLE_MOBILE = "13800138000"
EXAMPLE_ID_NUMBER = "440106199206150028"

_DETECT_BYTES = 256 * 1024
_UTF8_CHECK_BYTES = 8 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_DELIMITERS = ",\t;|"

Raw = str | int | float | date | datetime | bool | None


def check_upload(name: str, size: int) -> None:
    """Refuse a file by its name and size before it is stored or read."""
    if not str(name).lower().endswith(SUFFIXES):
        raise ValidationError(
            _(
                "“%(name)s” is not a file the import can read: upload an Excel workbook (.xlsx, "
                ".xls) or a CSV file (.csv)."
            )
            % {"name": name},
            code="file_type",
        )
    if size > MAX_FILE_MB * 1024 * 1024:
        raise ValidationError(
            _("The file is larger than %(mb)s MB. Split it into smaller files.")
            % {"mb": MAX_FILE_MB},
            code="too_large",
        )


def _unreadable(name: str) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” could not be read as a spreadsheet or CSV file. Is it damaged or "
            "password-protected? Open it in Excel, save it as .xlsx and upload it again."
        )
        % {"name": name},
        code="unreadable",
    )


def _too_many_rows() -> ValidationError:
    return ValidationError(
        _("The file has more than %(max)s rows. Split it into smaller files.") % {"max": MAX_ROWS},
        code="too_many_rows",
    )


def cell_text(value) -> str:
    """A cell as text: 170.0 → "170", a date → "1990-05-03"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _clean(value) -> Raw:
    """Calamine's empty cell ("") and blank text are None; durations and times become text."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, time | timedelta):
        return str(value)
    return value


def _blank(values) -> bool:
    return all(v is None for v in values)


def header_score(values) -> int:
    """How many different import fields the cells of a row name as headers."""
    return len({key for v in values if v is not None and (key := header_key(cell_text(v)))})


def find_header(rows: list[tuple[int, list]]) -> int:
    """Index in ``rows`` of the header row: the one naming the most fields (at least two), the
    earliest on a tie; without one, the first row about as wide as the widest (title rows are
    narrow)."""
    scores = [header_score(values) for _n, values in rows]
    best = max(scores, default=0)
    if best >= 2:
        return scores.index(best)
    widths = [sum(v is not None for v in values) for _n, values in rows]
    widest = max(widths, default=0)
    return next(i for i, w in enumerate(widths) if w >= max(1, widest * 0.6))


@dataclass
class Source:
    """An uploaded file, its sheet and header row, ready to stream member rows."""

    path: Path
    file_name: str
    sheet_names: list[str]
    sheet_name: str
    header_row: int  # 1-based
    headers: list[str]
    example_row_numbers: list[int] = field(default_factory=list)
    encoding: str = ""  # text files only
    delimiter: str = ""
    row_estimate: int = 0  # rows below the header, counting blank ones (an upper bound)
    # The sheet as calamine loaded it (a whole sheet is parsed at once: loading it again for the
    # header, the sample and the rows cost seconds at 100,000 rows).
    loaded_sheet: object = field(default=None, repr=False, compare=False)

    def iter_rows(self) -> Iterator[tuple[int, list[Raw]]]:
        """``(row number, values)`` for each row below the header, values aligned with
        ``headers``; blank rows and the template's example row are skipped."""
        width = len(self.headers)
        skip = set(self.example_row_numbers)
        for number, values in _raw_rows(self):
            if number <= self.header_row or number in skip:
                continue
            values = values[:width]
            if len(values) < width:
                values = values + [None] * (width - len(values))
            if not _blank(values):
                yield number, values

    @property
    def total_rows(self) -> int:
        """At most this many member rows (blank rows counted): the progress bar's total."""
        return self.row_estimate

    def close(self) -> None:
        """Let go of the loaded sheet (no file stays open: calamine reads a sheet at once)."""
        self.loaded_sheet = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def sample_rows(self, count: int = 20) -> list[list[Raw]]:
        """The first ``count`` member rows (for guessing the mapping and showing examples)."""
        return [values for _n, values in islice(self.iter_rows(), count)]


# --- Reading the raw rows ----------------------------------------------------------------------


def _load_sheet(path: Path, sheet: str):
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return workbook.get_sheet_by_name(sheet)
    finally:
        workbook.close()


def _spreadsheet_rows(loaded_sheet) -> Iterator[tuple[int, list[Raw]]]:
    # Calamine yields rows from the sheet's first row, cells from its first used column.
    for index, values in enumerate(loaded_sheet.iter_rows()):
        yield index + 1, [_clean(v) for v in values[:MAX_COLUMNS]]


def _text_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[Raw]]]:
    # A stray undecodable byte late in a big file becomes U+FFFD in its cell, shown to the clerk,
    # instead of failing the whole import.
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        for index, values in enumerate(csv.reader(f, delimiter=delimiter)):
            yield index + 1, [_clean(v) for v in values[:MAX_COLUMNS]]


def _raw_rows(source: Source) -> Iterator[tuple[int, list[Raw]]]:
    if source.encoding:
        return _text_rows(source.path, source.encoding, source.delimiter)
    if source.loaded_sheet is None:
        source.loaded_sheet = _load_sheet(source.path, source.sheet_name)
    return _spreadsheet_rows(source.loaded_sheet)


# --- Text files: encoding and delimiter ---------------------------------------------------------


def _valid_utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=False)  # a character cut at the end of the sample is fine
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes.

    A byte-order mark decides; text that is valid UTF-8 is UTF-8; otherwise charset-normalizer
    chooses among the encodings Chinese spreadsheets are saved in, GB18030 (the superset of GBK
    and GB2312, what Excel writes on a Chinese Windows) winning whenever it decodes the text.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _valid_utf8(head):
        return "utf-8"
    sample = head[:_DETECT_BYTES]
    guesses = from_bytes(sample, cp_isolation=["gb18030", "big5", "utf_16", "cp1252"])
    names = [g.encoding for g in guesses]
    if "gb18030" in names or not names:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        except UnicodeDecodeError:
            pass
        else:
            return "gb18030"
    if names:
        return names[0]
    raise UnicodeError("no encoding fits")


def _delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines most evenly into the most columns."""
    best, best_score = ",", (0, 0)
    for d in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=d)]
        if not counts:
            continue
        widest = max(counts)
        score = (sum(c == widest for c in counts) if widest > 1 else 0, widest)
        if score > best_score:
            best, best_score = d, score
    return best


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            lines += chunk.count(b"\n")
    return lines + 1


def _open_text(path: Path, name: str) -> Source:
    with path.open("rb") as f:
        head = f.read(_UTF8_CHECK_BYTES)
    try:
        encoding = detect_encoding(head)
        text = head[:_DETECT_BYTES].decode(encoding, errors="replace")
    except (UnicodeError, LookupError) as exc:
        raise _unreadable(name) from exc
    if "\x00" in text:  # binary, or a spreadsheet renamed to .csv
        raise _unreadable(name)
    lines = text.splitlines()[: HEADER_SEARCH_ROWS * 2]
    delimiter = "\t" if Path(name).suffix.lower() == ".tsv" else _delimiter(lines)
    if _count_lines(path) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise _too_many_rows()
    source = Source(
        path=path,
        file_name=name,
        sheet_names=[],
        sheet_name="",
        header_row=1,
        headers=[],
        encoding=encoding,
        delimiter=delimiter,
    )
    _place_header(source, _text_rows(path, encoding, delimiter))
    source.row_estimate = max(0, _count_lines(path) - source.header_row)
    return source


# --- Spreadsheets: which sheet ----------------------------------------------------------------


def _first_rows(rows: Iterator[tuple[int, list[Raw]]]) -> list[tuple[int, list[Raw]]]:
    """The first HEADER_SEARCH_ROWS non-blank rows."""
    found = []
    for number, values in rows:
        if not _blank(values):
            found.append((number, values))
            if len(found) > HEADER_SEARCH_ROWS:
                break
    return found


def _place_header(source: Source, rows: Iterator[tuple[int, list[Raw]]]) -> None:
    """Set the header row, headers and example rows of ``source`` from its first rows."""
    first = _first_rows(rows)
    if not first:
        raise ValidationError(_("The file holds no member rows."), code="empty")
    index = find_header(first[:HEADER_SEARCH_ROWS])
    number, values = first[index]
    while values and values[-1] is None:
        values = values[:-1]
    source.header_row = number
    source.headers = [cell_text(v) for v in values]
    source.example_row_numbers = [
        n
        for n, row in first[index + 1 : index + 1 + EXAMPLE_SEARCH_ROWS]
        if {EXAMPLE_MOBILE, EXAMPLE_ID_NUMBER} <= {cell_text(v) for v in row}
    ]
    if len(first) == index + 1:  # _first_rows read to the end: nothing below the header
        raise ValidationError(_("The file holds no member rows."), code="empty")


def _sheet_rows_score(loaded_sheet) -> tuple[int, bool]:
    """(best header score, has a row below that header) of a sheet's first rows."""
    first = _first_rows(_spreadsheet_rows(loaded_sheet))
    if not first:
        return 0, False
    index = find_header(first[:HEADER_SEARCH_ROWS])
    return header_score(first[index][1]), len(first) > index + 1


def _open_spreadsheet(path: Path, name: str, sheet: str | None) -> Source:
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            visible = [
                m.name
                for m in workbook.sheets_metadata
                if m.visible == python_calamine.SheetVisibleEnum.Visible
                and m.typ == python_calamine.SheetTypeEnum.WorkSheet
            ] or list(workbook.sheet_names)
        finally:
            workbook.close()
        if sheet is not None and sheet not in visible:
            raise ValidationError(
                _("The file has no sheet called “%(sheet)s”.") % {"sheet": sheet},
                code="no_sheet",
            )
        chosen = sheet
        loaded = {}
        if chosen is None:
            # The first sheet whose headers name member fields and that has rows below them;
            # else the first sheet with anything in it.
            scores = {}
            for candidate in visible:
                loaded[candidate] = _load_sheet(path, candidate)
                scores[candidate] = _sheet_rows_score(loaded[candidate])
                if scores[candidate][0] >= 2 and scores[candidate][1]:
                    chosen = candidate
                    break
            else:
                chosen = next((s for s in visible if scores[s][1]), visible[0] if visible else "")
        source = Source(
            path=path,
            file_name=name,
            sheet_names=visible,
            sheet_name=chosen,
            header_row=1,
            headers=[],
            loaded_sheet=loaded[chosen] if chosen in loaded else _load_sheet(path, chosen),
        )
        loaded.clear()  # the other sheets' cells are not kept
        height = source.loaded_sheet.height
        if height > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise _too_many_rows()
        _place_header(source, _spreadsheet_rows(source.loaded_sheet))
        source.row_estimate = max(0, height - source.header_row)
        return source
    except ValidationError:
        raise
    except Exception as exc:  # zip, XML, OLE and calamine errors alike: the file is not usable
        raise _unreadable(name) from exc


def open_source(path, *, sheet: str | None = None, file_name: str | None = None) -> Source:
    """Open an uploaded file for import. ``sheet`` names the sheet to read (default: the first
    with member rows). Raises ValidationError with a message for the clerk when the file is of
    the wrong type, too large, unreadable or empty."""
    path = Path(path)
    name = file_name or path.name
    check_upload(name, path.stat().st_size)
    with path.open("rb") as f:
        magic = f.read(4)
    if magic in (_ZIP_MAGIC, _OLE_MAGIC) or (
        path.suffix.lower() in SPREADSHEET_SUFFIXES and not _looks_like_text(path)
    ):
        return _open_spreadsheet(path, name, sheet)
    return _open_text(path, name)


def _looks_like_text(path: Path) -> bool:
    """An ".xls" that is really text (CSV or tab-separated, as some systems export)."""
    with path.open("rb") as f:
        head = f.read(4096)
    return b"\x00" not in head and not re.search(rb"<(html|table|\?xml)", head[:512], re.I)


def read_all(source: Source) -> list[tuple[int, list[Raw]]]:
    """Every member row (for tests and small files)."""
    return list(source.iter_rows())
