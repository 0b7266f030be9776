"""Member rows → the engine's plain `Profile`s. The only place that knows both vocabularies."""

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
STATUS = {
    c.ServiceStatus.PAUSED: "paused",
    c.ServiceStatus.EXPIRED: "expired",
    c.ServiceStatus.COMPLETED: "paused",  # a finished service is not matched again
}


def _bool(value: str, yes: set) -> bool | None:
    return None if not value else value in yes


def _region_pref(code: str, must: bool, importance: int):
    if not code or len(code) != 6:
        return None
    province = int(code[:2] + "0000")
    city = int(code[:4] + "00") if code[2:4] != "00" else None
    return eng.RegionPref(province=province, city=city, must=must, importance=importance)


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

    marital = set(pref.marital or []) & set(eng.MARITAL_STATUSES)
    children = set(pref.children or []) & set(eng.CHILDREN_STATUSES)
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


def profile(member, pref=None) -> "eng.Profile | None":
    """The engine's view of a member; None when the member cannot be matched at all (no
    birthday or sex yet)."""
    if not member.birthday or member.sex not in eng.SEXES:
        return None
    region = member.region if len(member.region or "") == 6 else ""
    return eng.Profile(
        id=member.pk,
        sex=member.sex,
        birth_date=member.birthday,
        height_cm=member.height if member.height and 50 <= member.height <= 260 else None,
        weight_kg=member.weight if member.weight and 20 <= member.weight <= 300 else None,
        education=EDUCATION.get(member.education),
        income=INCOME.get(member.annual_income),
        marital=member.marital_status or "single",
        children=member.children or None,
        province=int(region[:2] + "0000") if region else None,
        city=int(region[:4] + "00") if region and region[2:4] != "00" else None,
        hukou_province=int(member.hukou_region[:2] + "0000")
        if len(member.hukou_region or "") == 6
        else None,
        house=_bool(member.house, HOUSE_OWNED),
        car=_bool(member.car, {c.CarStatus.OWNS}),
        smoking=SMOKING.get(member.smoking),
        drinking=DRINKING.get(member.drinking),
        ethnicity=int(member.ethnicity) if (member.ethnicity or "").isdigit() else None,
        religion=RELIGION.get(member.religion),
        hobbies=frozenset(member.hobbies or ()),
        personality=frozenset(member.personality or ()),
        about=member.about or "",
        status=STATUS.get(member.service_status, "active"),
        hidden=member.is_hidden,
        prefs=preferences(pref),
    )
