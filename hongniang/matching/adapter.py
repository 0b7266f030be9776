"""Member rows → the engine's plain `Profile`s. The only place that knows both vocabularies.

A row the engine cannot use (a birthday in 1800, a height of 9999, hobbies that are not a list,
an unknown code…) raises `RecordError` with the reasons, so the caller can skip and report that
one member instead of failing everyone's matches.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.matching import engine as eng
from hongniang.members import choices as c

EDUCATION = {
    c.Education.PRIMARY: eng.EDU_NONE,
    c.Education.JUNIOR_HIGH: eng.EDU_JUNIOR_HIGH,
    c.Education.SENIOR_HIGH: eng.EDU_HIGH_SCHOOL,
    c.Education.TECHNICAL_SECONDARY: eng.EDU_HIGH_SCHOOL,
    c.Education.JUNIOR_COLLEGE: eng.EDU_JUNIOR_COLLEGE,
    c.Education.BACHELOR: eng.EDU_BACHELOR,
    c.Education.MASTER: eng.EDU_MASTER,
    c.Education.DOCTORATE: eng.EDU_DOCTORATE,
    c.Education.POSTDOC: eng.EDU_DOCTORATE,
}
# Our bands' lower bounds fall into these engine bands (0 <3万, 3 8–12万, 7 ≥50万 …).
INCOME = {
    c.AnnualIncome.UNDER_30K: 0,
    c.AnnualIncome.FROM_30K_TO_50K: 1,
    c.AnnualIncome.FROM_50K_TO_100K: 2,
    c.AnnualIncome.FROM_100K_TO_200K: 3,
    c.AnnualIncome.FROM_200K_TO_300K: 5,
    c.AnnualIncome.FROM_300K_TO_500K: 6,
    c.AnnualIncome.FROM_500K_TO_1M: 7,
    c.AnnualIncome.OVER_1M: 7,
}
SMOKING = {c.Smoking.NEVER: 0, c.Smoking.QUITTING: 1, c.Smoking.OCCASIONALLY: 1, c.Smoking.OFTEN: 2}
DRINKING = {c.Drinking.NEVER: 0, c.Drinking.SOCIALLY: 1, c.Drinking.OFTEN: 2}
RELIGION = {
    c.Religion.NONE: eng.RELIGION_NONE,
    c.Religion.BUDDHISM: eng.RELIGION_BUDDHISM,
    c.Religion.TAOISM: eng.RELIGION_TAOISM,
    c.Religion.ISLAM: eng.RELIGION_ISLAM,
    c.Religion.CHRISTIANITY: eng.RELIGION_PROTESTANT,
    c.Religion.CATHOLICISM: eng.RELIGION_CATHOLIC,
    c.Religion.OTHER: eng.RELIGION_OTHER,
}
HOUSE_OWNED = {c.HouseStatus.OWNS, c.HouseStatus.MORTGAGE}
HOUSE = {value: value in HOUSE_OWNED for value in c.HouseStatus.values}
CAR = {value: value == c.CarStatus.OWNS for value in c.CarStatus.values}
MARITAL = {value: value for value in c.MaritalStatus.values if value in eng.MARITAL_STATUSES}
CHILDREN = {value: value for value in c.ChildrenStatus.values if value in eng.CHILDREN_STATUSES}

# Who may be matched: one rule, in one place. A member is offered as a candidate, and gets
# candidates, only when `engine_status` says "active": never when abandoned, paused, finished
# (or hidden, passed separately), and otherwise as the site setting says (per sales stage and
# service status, plus members who agreed to be introduced).
EXCLUDED_SALES_STAGES = {c.SalesStage.ABANDONED: "abandoned"}
EXCLUDED_SERVICE_STATUSES = {
    c.ServiceStatus.PAUSED: "paused",
    c.ServiceStatus.FINISHED: "completed",
}
# The stage/status pairs the setting can open to matching.
CANDIDATE_STATES = tuple(
    (stage, status)
    for stage in c.SalesStage.values
    if stage not in EXCLUDED_SALES_STAGES
    for status in c.ServiceStatus.values
    if status not in EXCLUDED_SERVICE_STATUSES
)


@dataclass(frozen=True)
class CandidateRule:
    """The site setting of who may be offered: allowed (stage, status) pairs, and whether a
    member who agreed to be introduced is offered in any other open state."""

    states: frozenset
    consenting: bool


def candidate_rule(site=None) -> CandidateRule:
    """The rule as the site settings say now (read once per build, not per member)."""
    from hongniang.siteconfig.models import SiteSettings

    site = site or SiteSettings.load()
    raw = site.candidate_states if isinstance(site.candidate_states, list) else []
    states = {tuple(v.split("/", 1)) for v in raw if isinstance(v, str)}
    return CandidateRule(frozenset(states & set(CANDIDATE_STATES)), bool(site.candidate_consenting))


def candidate_q(rule: CandidateRule, prefix: str = "") -> Q:
    """`engine_status(...) == "active"` as a query (hidden aside), for lists and searches."""
    p = prefix
    q = Q(pk__in=[])
    for stage, status in sorted(rule.states):
        q |= Q(**{f"{p}sales_stage": stage, f"{p}service_status": status})
    if rule.consenting:
        q |= Q(**{f"{p}consents_to_introduction": True})
    return (
        q
        & ~Q(**{f"{p}sales_stage__in": list(EXCLUDED_SALES_STAGES)})
        & ~Q(**{f"{p}service_status__in": list(EXCLUDED_SERVICE_STATUSES)})
    )


MAX_AGE = 100  # older is a typing error (the member form refuses it too)

# The member fields `profile` and `engine_status` read: a save that names none of them
# (`update_fields`) leaves the engine as it is. Add a field here when the adapter reads it.
MEMBER_FIELDS = frozenset(
    {
        "birthday",
        "sex",
        "height",
        "weight",
        "education",
        "annual_income",
        "smoking",
        "drinking",
        "religion",
        "marital_status",
        "children",
        "house",
        "car",
        "region",
        "hukou_region",
        "ethnicity",
        "hobbies",
        "personality",
        "about",
        "sales_stage",
        "service_status",
        "is_hidden",
        "consents_to_introduction",
    }
)


def tag_labels() -> dict[str, str]:
    """Display names of the hobby and personality codes the engine compares (in the active
    language), so its explanations say 旅游, not "travel"."""
    return {code: str(label) for code, label in (*c.Hobby.choices, *c.Personality.choices)}


def engine_status(member, rule: CandidateRule | None = None) -> str:
    """The engine's status of a member; anything but 'active' keeps them out of matching.
    (Hidden members are passed as `hidden=True`, which the engine treats the same way.)"""
    if member.sales_stage in EXCLUDED_SALES_STAGES:
        return EXCLUDED_SALES_STAGES[member.sales_stage]
    if member.service_status in EXCLUDED_SERVICE_STATUSES:
        return EXCLUDED_SERVICE_STATUSES[member.service_status]
    rule = rule or candidate_rule()
    if (member.sales_stage, member.service_status) in rule.states:
        return "active"
    if rule.consenting and member.consents_to_introduction:
        return "active"
    return "not_offered"


class RecordError(ValueError):
    """A member row the engine cannot use; `reasons` say why (for administrators)."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("; ".join(reasons))


def _region_pref(code: str, must: bool, importance: int):
    if not code or len(code) != 6:
        return None
    province = int(code[:2] + "0000")
    city = int(code[:4] + "00") if code[2:4] != "00" else None
    return eng.RegionPref(province=province, city=city, must=must, importance=importance)


def _choice_list(value) -> set[str]:
    if value in (None, ""):
        return set()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"not a list of choices: {value!r}")
    return set(value)


def preferences(pref) -> "eng.Preferences":
    if pref is None:
        return eng.Preferences()

    def rng(key):
        lo, hi = getattr(pref, f"{key}_min"), getattr(pref, f"{key}_max")
        if lo is None and hi is None:
            return None
        return eng.RangePref(
            lo, hi, must=getattr(pref, f"{key}_must"), importance=getattr(pref, f"{key}_importance")
        )

    def weight(key):
        return {
            "must": getattr(pref, f"{key}_must"),
            "importance": getattr(pref, f"{key}_importance"),
        }

    marital = _choice_list(pref.marital) & set(eng.MARITAL_STATUSES)
    children = _choice_list(pref.children) & set(eng.CHILDREN_STATUSES)
    return eng.Preferences(
        age=rng("age"),
        height=rng("height"),
        weight=rng("weight"),
        education=eng.MinPref(EDUCATION[pref.education_min], **weight("education"))
        if pref.education_min is not None
        else None,
        income=eng.MinPref(INCOME[pref.income_min], **weight("income"))
        if pref.income_min is not None
        else None,
        marital=eng.ChoicePref(frozenset(marital), **weight("marital")) if marital else None,
        children=eng.ChoicePref(frozenset(children), **weight("children")) if children else None,
        car=eng.RequiredPref(**weight("car")) if pref.car == c.CarStatus.OWNS else None,
        house=eng.RequiredPref(**weight("house")) if pref.house in HOUSE_OWNED else None,
        region=_region_pref(pref.region, **weight("region")),
    )


def _tag_list(value, label: str, problems: list[str]) -> frozenset[str]:
    if value in (None, ""):
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(_("%(field)s is not a list of choices") % {"field": label})
        return frozenset()
    return frozenset(value)


def _code(value, mapping: dict, label: str, problems: list[str]):
    """The engine's value of a choice; None when blank, a problem when unknown."""
    if value in (None, ""):
        return None
    if value not in mapping:
        problems.append(_("%(field)s has an unknown value") % {"field": label})
        return None
    return mapping[value]


def _region_code(value: str, label: str, problems: list[str]) -> str:
    if not value:
        return ""
    if not (isinstance(value, str) and len(value) == 6 and value.isdigit()):
        problems.append(_("%(field)s is not a region code") % {"field": label})
        return ""
    try:
        eng.RegionPref(province=int(value[:2] + "0000"))
    except ValueError:
        problems.append(_("%(field)s is not a region code") % {"field": label})
        return ""
    return value


def _number(value, bounds: tuple[int, int], label: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if not bounds[0] <= value <= bounds[1]:
        problems.append(
            _("%(field)s is outside %(low)s–%(high)s")
            % {"field": label, "low": bounds[0], "high": bounds[1]}
        )
        return None
    return value


def _label(member, field: str) -> str:
    return str(member._meta.get_field(field).verbose_name)


def _birthday_problem(birthday: date, today: date) -> str | None:
    if birthday > today:
        return _("the birthday is in the future")
    if eng.age_on(birthday, today) > MAX_AGE:
        return _("the birthday makes the member older than %(age)s") % {"age": MAX_AGE}
    return None


def profile(
    member, pref=None, *, today: date | None = None, rule: CandidateRule | None = None
) -> "eng.Profile | None":
    """The engine's view of a member; None when the member cannot be matched yet (no
    birthday). Raises RecordError when the row holds values the engine cannot use."""
    if not member.birthday:
        return None
    problems: list[str] = []
    if member.sex not in eng.SEXES:
        problems.append(_("the sex is missing"))
    problem = _birthday_problem(member.birthday, today or timezone.localdate())
    if problem:
        problems.append(problem)
    height = _number(member.height, eng.HEIGHT_RANGE, _label(member, "height"), problems)
    weight = _number(member.weight, eng.WEIGHT_RANGE, _label(member, "weight"), problems)
    education = _code(member.education, EDUCATION, _label(member, "education"), problems)
    income = _code(member.annual_income, INCOME, _label(member, "annual_income"), problems)
    smoking = _code(member.smoking, SMOKING, _label(member, "smoking"), problems)
    drinking = _code(member.drinking, DRINKING, _label(member, "drinking"), problems)
    religion = _code(member.religion, RELIGION, _label(member, "religion"), problems)
    marital = _code(member.marital_status, MARITAL, _label(member, "marital_status"), problems)
    children = _code(member.children, CHILDREN, _label(member, "children"), problems)
    house = _code(member.house, HOUSE, _label(member, "house"), problems)
    car = _code(member.car, CAR, _label(member, "car"), problems)
    region = _region_code(member.region, _label(member, "region"), problems)
    hukou = _region_code(member.hukou_region, _label(member, "hukou_region"), problems)
    ethnicity = None
    if member.ethnicity:
        if not (member.ethnicity.isdigit() and 1 <= int(member.ethnicity) <= 98):
            problems.append(
                _("%(field)s has an unknown value") % {"field": _label(member, "ethnicity")}
            )
        else:
            ethnicity = int(member.ethnicity)
    hobbies = _tag_list(member.hobbies, _label(member, "hobbies"), problems)
    personality = _tag_list(member.personality, _label(member, "personality"), problems)
    if not isinstance(member.about or "", str):
        problems.append(_("the self-description is not text"))
    try:
        prefs = preferences(pref)
    except (ValueError, TypeError, KeyError, AttributeError):
        problems.append(_("the mate preferences hold values outside their ranges"))
        prefs = eng.Preferences()
    if problems:
        raise RecordError(problems)
    try:
        return eng.Profile(
            id=member.pk,
            sex=member.sex,
            birth_date=member.birthday,
            height_cm=height,
            weight_kg=weight,
            education=education,
            income=income,
            marital=marital or "single",
            children=children,
            province=int(region[:2] + "0000") if region else None,
            city=int(region[:4] + "00") if region and region[2:4] != "00" else None,
            hukou_province=int(hukou[:2] + "0000") if hukou else None,
            house=house,
            car=car,
            smoking=smoking,
            drinking=drinking,
            ethnicity=ethnicity,
            religion=religion,
            hobbies=hobbies,
            personality=personality,
            about=member.about or "",
            status=engine_status(member, rule),
            hidden=bool(member.is_hidden),
            prefs=prefs,
        )
    except (ValueError, TypeError) as exc:  # a check above missed it: still one member only
        raise RecordError([str(exc)]) from exc
