"""Text from uploaded files made safe to store and to show.

Control characters and the invisible characters that reorder or hide text (bidirectional
overrides and isolates, zero-width spaces and joiners, byte-order marks) are removed: they make a
name look like another one or break a page's layout. A text starting with ``=``, ``+``, ``-`` or
``@`` is kept as it is — it is stored as text and the app never evaluates it — and
:func:`spreadsheet_safe` makes such text inert wherever it is written to CSV.
"""

import re

# C0/C1 controls except tab and newlines; bidi embeddings, overrides and isolates; zero-width and
# invisible formatting characters; BOM.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value, *, multiline: bool = False) -> str:
    """``value`` as text without invisible characters, stripped; a single-line field also gets
    its line breaks and tabs turned into spaces."""
    text = _INVISIBLE.sub("", str(value))
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    else:
        text = _LINE_BREAKS.sub(" ", text)
    return text.strip()


def spreadsheet_safe(text: str) -> str:
    """Text for a CSV cell that a spreadsheet program will show, not run: one that starts like a
    formula gets a leading apostrophe (OWASP's advice for CSV injection)."""
    text = "" if text is None else str(text)
    return f"'{text}" if text.startswith(_FORMULA_START) else text
