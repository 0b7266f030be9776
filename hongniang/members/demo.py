"""Demo members with believable distributions (used by `seed_demo`; `--members 100000` for bench).

Rows are bulk-inserted for speed, so they carry no field history; their timeline starts with one
"created" event each.
"""

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from faker import Faker
from stdnum.cn import ric

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.models import EventKind, MatePreference, Member, MemberEvent
from hongniang.members.reference import ethnic_groups
from hongniang.members.regions import Region
from hongniang.members.signals import members_bulk_changed

MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "166",
    "177",
    "180",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
)
BATCH = 2000


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def _regions(rng) -> list[str]:
    counties = list(Region.objects.filter(level=3).values_list("code", flat=True))
    local = [code for code in counties if code[:4] in ("4401", "4403")]  # Guangzhou, Shenzhen
    return local, counties


def _id_number(rng, region: str, birthday: date, sex: str) -> str:
    seq = rng.randint(0, 99) * 10 + (
        rng.choice((1, 3, 5, 7, 9)) if sex == c.Sex.MALE else rng.choice((0, 2, 4, 6, 8))
    )
    body = f"{region}{birthday:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # the function ignores the last character


def build_member(
    rng, fake, index, people, local, counties, now, used_ids: set
) -> tuple[Member, dict]:
    sex = rng.choice((c.Sex.MALE, c.Sex.FEMALE))
    age = max(20 if sex == c.Sex.FEMALE else 22, min(60, int(rng.gauss(31, 6))))
    birthday = now.date() - timedelta(days=age * 365 + rng.randint(0, 364))
    region = rng.choice(local) if rng.random() < 0.75 else rng.choice(counties)
    male = sex == c.Sex.MALE
    stage = _weighted(
        rng,
        [
            (c.SalesStage.NEW, 25),
            (c.SalesStage.FOLLOWING, 35),
            (c.SalesStage.SIGNED, 30),
            (c.SalesStage.ABANDONED, 10),
        ],
    )
    owners = people["matchmakers"]
    presales = rng.choice(owners) if rng.random() < 0.85 else None
    aftersales = rng.choice(owners) if stage == c.SalesStage.SIGNED and rng.random() < 0.8 else None
    store = (
        (presales or aftersales).store
        if (presales or aftersales)
        else rng.choice(people["managers"]).store
    )
    registered = now - timedelta(days=rng.expovariate(1 / 200), hours=rng.randint(0, 23))
    service = c.ServiceStatus.NOT_STARTED
    if stage == c.SalesStage.SIGNED:
        service = _weighted(
            rng,
            [
                (c.ServiceStatus.IN_SERVICE, 75),
                (c.ServiceStatus.PAUSED, 8),
                (c.ServiceStatus.FINISHED, 17),
            ],
        )
    mobile = f"{rng.choice(MOBILE_PREFIXES)}{index:08d}"[-11:]
    member = Member(
        username=f"hy{index:06d}",
        name=fake.name_male() if male else fake.name_female(),
        mobile_encrypted=pd.encrypt(mobile),
        mobile_hash=pd.lookup_hash(mobile),
        mobile_masked=pd.mask_mobile(mobile),
        email=f"hy{index:06d}@example.cn" if rng.random() < 0.4 else "",
        sex=sex,
        birthday=birthday,
        region=region,
        hukou_region=region[:4] + "00" if rng.random() < 0.7 else rng.choice(counties)[:4] + "00",
        height=int(rng.gauss(173 if male else 161, 6)),
        weight=int(rng.gauss(68 if male else 52, 8)),
        marital_status=_weighted(
            rng,
            [
                (c.MaritalStatus.SINGLE, 78),
                (c.MaritalStatus.DIVORCED, 19),
                (c.MaritalStatus.WIDOWED, 3),
            ],
        ),
        education=_weighted(
            rng,
            [
                (c.Education.SENIOR_HIGH, 8),
                (c.Education.JUNIOR_COLLEGE, 22),
                (c.Education.BACHELOR, 48),
                (c.Education.MASTER, 17),
                (c.Education.DOCTORATE, 5),
            ],
        ),
        annual_income=_weighted(
            rng,
            [
                (v, w)
                for v, w in zip(c.AnnualIncome.values, (4, 8, 22, 30, 16, 11, 6, 3), strict=True)
            ],
        ),
        occupation=rng.choice(c.Occupation.values),
        car=rng.choice(c.CarStatus.values),
        house=rng.choice(c.HouseStatus.values),
        children=c.ChildrenStatus.NONE,
        ethnicity="01" if rng.random() < 0.9 else rng.choice(ethnic_groups()).code,
        personality=c.in_choice_order(rng.sample(c.Personality.values, 2), c.Personality),
        hobbies=c.in_choice_order(rng.sample(c.Hobby.values, 3), c.Hobby),
        appearance=rng.choice(c.Appearance.values),
        religion=c.Religion.values[0],
        smoking=rng.choice(c.Smoking.values),
        drinking=rng.choice(c.Drinking.values),
        about=fake.sentence(nb_words=18),
        source=_weighted(
            rng,
            [
                (c.Source.REGISTRATION, 40),
                (c.Source.CONSULTATION, 25),
                (c.Source.STAFF_ENTRY, 30),
                (c.Source.IMPORT, 5),
            ],
        ),
        sales_stage=stage,
        service_status=service,
        presales_owner=presales,
        aftersales_owner=aftersales,
        created_by=presales,
        store=store,
        registered_at=registered,
        allocated_at=registered + timedelta(days=1) if (presales or aftersales) else None,
        followed_up_at=registered + timedelta(days=2) if stage != c.SalesStage.NEW else None,
        # Demo counts only (the demo has no follow-up notes); a new member has none. Derived
        # from the index so that the random sequence (and every other demo value) stays as it was.
        follow_up_count=0 if stage == c.SalesStage.NEW else 1 + index % 8,
        service_note_count=index % 9 if service != c.ServiceStatus.NOT_STARTED else 0,
        finish_reason=c.FinishReason.values[index % 3]
        if service == c.ServiceStatus.FINISHED
        else "",
        consents_to_introduction=stage != c.SalesStage.ABANDONED and index % 5 == 0,
    )
    if member.marital_status != c.MaritalStatus.SINGLE and rng.random() < 0.5:
        member.children = rng.choice((c.ChildrenStatus.LIVES_WITH_ME, c.ChildrenStatus.NOT_WITH_ME))
    member.set_birthday_keys()  # bulk_create does not call save()
    number = _id_number(rng, region, birthday, sex) if rng.random() < 0.6 else ""
    if number and number not in used_ids:  # ID numbers are unique; skip the rare clash
        used_ids.add(number)
        member.id_number_encrypted = pd.encrypt(number)
        member.id_number_hash = pd.lookup_hash(number)
        member.id_number_masked = pd.mask_id_number(number)
    lo = age - 6 if male else age - 2
    pref = {
        "age_min": max(18, lo),
        "age_max": age + (2 if male else 8),
        "age_importance": rng.randint(1, 3),
        "age_must": rng.random() < 0.3,
        "height_min": 155 if male else 170,
        "height_importance": rng.randint(0, 2),
        "education_min": rng.choice((c.Education.JUNIOR_COLLEGE, c.Education.BACHELOR)),
        "education_importance": rng.randint(0, 3),
        "marital": [c.MaritalStatus.SINGLE]
        if rng.random() < 0.6
        else [c.MaritalStatus.SINGLE, c.MaritalStatus.DIVORCED],
        "region": region[:4] + "00" if rng.random() < 0.5 else "",
    }
    return member, pref


def seed_members(*, target: int, people: dict, verbose: bool = True, seed: int = 7) -> int:
    existing = Member.objects.count()
    missing = target - existing
    if missing <= 0:
        return 0
    rng = random.Random(seed + existing)
    fake = Faker("zh_CN")
    Faker.seed(seed + existing)
    local, counties = _regions(rng)
    if not counties:
        raise RuntimeError("Load the region table first: manage.py load_regions")
    now = timezone.now()
    used_ids: set[str] = set()  # clashes with existing rows are caught by the unique hash
    start = (Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    created = 0
    while created < missing:
        size = min(BATCH, missing - created)
        with transaction.atomic():
            pairs = [
                build_member(rng, fake, start + created + i, people, local, counties, now, used_ids)
                for i in range(size)
            ]
            members = Member.objects.bulk_create([m for m, _p in pairs])
            MatePreference.objects.bulk_create(
                MatePreference(member=m, **p) for m, (_m, p) in zip(members, pairs, strict=True)
            )
            MemberEvent.objects.bulk_create(
                MemberEvent(member=m, actor=m.created_by, kind=EventKind.CREATED) for m in members
            )
            members_bulk_changed.send(Member, member_ids=[m.pk for m in members])
        created += size
        if verbose and missing > BATCH:
            print(f"  members: {existing + created}/{target}", flush=True)  # noqa: T201
    return created
