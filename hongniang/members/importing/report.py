"""What an import tells the clerk: counts, sample rows with their reasons, and the rows to fix as
an .xlsx — the original cells and a column of reasons, ready to correct and upload again."""

import io
from datetime import date, datetime, time

from django.utils.translation import gettext as _

from hongniang.members import excel
from hongniang.members import personal_data as pd
from hongniang.members.importing.pipeline import SAMPLES, RowOutcome, Status
from hongniang.workbench.xlsx import SheetWriter

# Pseudo fields of a mapping that together give the region (the mapping screen's).
_LABELS_EXTRA = {"region_province": "region", "region_city": "region", "region_county": "region"}


class Labels:
    """A field key → the name the clerk knows the cell by: the file's own header of the column
    mapped to it, else the product's column name."""

    def __init__(self, headers: list[str], mapping: list[str | None]):
        self._by_key: dict[str, str] = {}
        for header, key in zip(headers, mapping, strict=False):
            if key and header:
                self._by_key.setdefault(key, str(header))
                if key in _LABELS_EXTRA:
                    self._by_key.setdefault(_LABELS_EXTRA[key], str(header))

    def __call__(self, key: str) -> str:
        if not key:
            return _("(whole row)")
        if key in self._by_key:
            return self._by_key[key]
        return str(excel.HEADERS.get(key, key))

    def reasons(self, issues) -> str:
        return "；".join(f"{self(i.key)}：{i.message}" for i in issues)


def counts(outcomes: list[RowOutcome]) -> dict:
    found = {Status.NEW: 0, Status.EXISTING: 0, Status.REJECTED: 0, "warned": 0}
    for o in outcomes:
        found[o.status] += 1
        if o.warnings and not o.errors:
            found["warned"] += 1
    return found


def _sample(o: RowOutcome, labels: Labels) -> dict:
    name = o.values.get("name") or ""
    return {
        "row": o.row,
        "name": str(name)[:30],
        "mobile": pd.mask_mobile(o.mobile) if o.mobile else "",
        "member": o.target if o.status == Status.EXISTING else None,
        "errors": [[labels(i.key), i.message] for i in o.errors],
        "warnings": [[labels(i.key), i.message] for i in o.warnings],
    }


def samples(outcomes: list[RowOutcome], labels: Labels, limit: int = SAMPLES) -> dict:
    """The first ``limit`` rows of each kind, as plain data (kept in the job's result)."""
    found = {Status.NEW: [], Status.EXISTING: [], Status.REJECTED: [], "warned": []}
    for o in outcomes:
        kinds = [o.status] + (["warned"] if o.warnings and not o.errors else [])
        for kind in kinds:
            if len(found[kind]) < limit:
                found[kind].append(_sample(o, labels))
    return found


def _cell(value):
    """A cell of the original file as the writer takes it (text is never a formula there)."""
    if isinstance(value, datetime):
        return value.date() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | str | int | float | bool) or value is None:
        return value
    return str(value)


def rows_to_fix(headers: list[str], outcomes: list[RowOutcome], labels: Labels) -> bytes:
    """The rejected and warned rows: the original cells, then the row number in the original
    file and the reasons. Cells are written as text or numbers, never as formulas."""
    buffer = io.BytesIO()
    widths = [14] * len(headers) + [10, 60]
    with SheetWriter(buffer, _("Rows to fix"), widths=widths) as sheet:
        sheet.header([str(h) for h in headers] + [_("Row in the file"), _("Problems")])
        for o in outcomes:
            if not (o.errors or o.warnings):
                continue
            issues = o.errors + o.warnings
            cells = [_cell(v) for v in o.cells[: len(headers)]]
            cells += [None] * (len(headers) - len(cells))
            sheet.row(cells + [o.row, labels.reasons(issues)])
    return buffer.getvalue()
