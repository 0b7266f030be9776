"""Message texts with placeholders: "{name}，您好" becomes "张三，您好".

Only the names in PLACEHOLDERS are allowed, without attribute or index access, conversions or
format specs ("{name.__class__}", "{name!r}", "{0}" are refused when a template is saved). The
text is never passed to ``str.format``: it is parsed, and each placeholder replaced by a plain
string, so a template written by staff cannot reach into Python objects.
"""

from string import Formatter

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PLACEHOLDERS = {
    "name": gettext_lazy("the member's full name"),
    "surname": gettext_lazy("the member's surname"),
    "uid": gettext_lazy("the member's UID"),
    "matchmaker": gettext_lazy("the member's matchmaker"),
    "agency": gettext_lazy("the agency's name"),
    "hotline": gettext_lazy("the agency's hotline"),
}


def _parts(text: str):
    try:
        return list(Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        raise ValidationError(
            _("Unbalanced braces: write {{ and }} for a literal brace."), code="braces"
        ) from exc


def check_placeholders(text: str) -> None:
    """Raise ValidationError naming any placeholder that is not allowed."""
    bad = []
    for _literal, field, spec, conversion in _parts(text):
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            bad.append("{" + field + ("!" + conversion if conversion else "") + "}")
    if bad:
        raise ValidationError(
            _("Unknown placeholder(s): %(bad)s. Allowed: %(allowed)s.")
            % {"bad": "、".join(bad), "allowed": "、".join(f"{{{k}}}" for k in PLACEHOLDERS)},
            code="placeholder",
        )


def fill(text: str, values: dict[str, str]) -> str:
    """The text with each allowed placeholder replaced by its value (checked first)."""
    check_placeholders(text)
    out = []
    for literal, field, _spec, _conversion in _parts(text):
        out.append(literal)
        if field is not None:
            out.append(str(values.get(field, "")))
    return "".join(out)


def member_values(member, site) -> dict[str, str]:
    """What the placeholders stand for, for one member (whose own team is writing)."""
    matchmaker = member.aftersales_owner or member.presales_owner
    return {
        "name": member.name,
        "surname": member.name[:1],
        "uid": str(member.pk),
        "matchmaker": matchmaker.name if matchmaker else "",
        "agency": site.crm_name,
        "hotline": site.hotline,
    }
