"""Every catalog is complete: no untranslated or fuzzy entry in any zh_Hans .po file."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def entries(text: str):
    """Yield (flags, msgid, msgstr) for each entry, joining continuation lines."""
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgstr|msgid_plural|msgstr\[\d+\]) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields:
            msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
            yield flags, fields["msgid"], msgstr


def test_there_is_a_catalog():
    assert CATALOGS, "no zh_Hans catalog found"


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalog_complete(catalog):
    problems = []
    for flags, msgid, msgstr in entries(catalog.read_text(encoding="utf-8")):
        if not msgid:
            if "fuzzy" in flags:
                problems.append("header is fuzzy")
            continue
        if "fuzzy" in flags:
            problems.append(f"fuzzy: {msgid}")
        elif not msgstr:
            problems.append(f"untranslated: {msgid}")
    assert not problems, "\n".join(problems)
