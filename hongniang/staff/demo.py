"""The demo agency's staff: stores, roles and a realistic org tree (used by `seed_demo`)."""

import hashlib
import random
from io import BytesIO

from django.core.files.base import ContentFile
from faker import Faker
from PIL import Image, ImageDraw

from hongniang.staff.models import Role, Staff, Store
from hongniang.staff.permissions import ALL_GRANTS
from hongniang.staff.visibility import DataScope

DEMO_PASSWORD = "Demo@2026"  # noqa: S105 - printed by `make run`; demo data only
DEMO_SECURITY_PASSWORD = "Secure@2026"  # noqa: S105

STORES = [
    ("广州天河店", "广州市天河区天河路242号", "020-66639775"),
    ("深圳福田店", "深圳市福田区深南大道6008号", "0755-83216688"),
]


def _grants(*patterns: str) -> list[str]:
    """Expand "members.*" style patterns against the catalogue."""
    result = []
    for grant in ALL_GRANTS:
        module, action = grant.split(".")
        if any(p in (grant, f"{module}.*") for p in patterns):
            result.append(grant)
    return result


ROLES = {
    "administrator": ("管理员", "机构管理员，拥有全部权限", DataScope.ALL, _grants(*ALL_GRANTS)),
    "manager": (
        "红娘经理",
        "管理本团队的红娘与会员",
        DataScope.SUBTREE,
        _grants(
            "members.*",
            "presales.*",
            "aftersales.*",
            "matching.*",
            "staff.view",
            "staff.add",
            "staff.edit",
            "reports.view",
            "finance.view",
            "finance.add",
        ),
    ),
    "presales": (
        "售前红娘",
        "跟进新会员直至签约",
        DataScope.SUBTREE,
        _grants(
            "members.view",
            "members.add",
            "members.edit",
            "presales.view",
            "presales.add",
            "presales.edit",
            "matching.view",
            "finance.view",
            "finance.add",
        ),
    ),
    "aftersales": (
        "售后红娘",
        "为签约会员提供配对与约见服务",
        DataScope.SUBTREE,
        _grants(
            "members.view",
            "members.edit",
            "aftersales.view",
            "aftersales.add",
            "aftersales.edit",
            "matching.view",
            "matching.add",
            "matching.edit",
        ),
    ),
    "finance": (
        "财务",
        "审核合同、确认收款与退款",
        DataScope.ALL,
        _grants("finance.*", "members.view", "reports.view", "reports.export"),
    ),
}


def generated_avatar(seed: str, female: bool) -> ContentFile:
    """A simple silhouette on a colour derived from the seed: no font, no network."""
    digest = hashlib.sha256(seed.encode()).digest()
    bg = (150 + digest[0] % 100, 120 + digest[1] % 100, 140 + digest[2] % 100)
    img = Image.new("RGB", (256, 256), bg)
    draw = ImageDraw.Draw(img)
    fg = (255, 255, 255)
    draw.ellipse((88, 48, 168, 128), fill=fg)
    draw.ellipse((48, 140, 208, 300), fill=fg)
    if female:
        draw.ellipse((80, 40, 176, 110), outline=fg, width=10)
    out = BytesIO()
    img.save(out, format="PNG")
    return ContentFile(out.getvalue(), name=f"demo-{digest.hex()[:10]}.png")


def _person(fake, rng, username, role, store, supervisor, title) -> tuple[Staff, bool]:
    existing = Staff.objects.filter(username=username).first()
    if existing:
        return existing, False
    female = rng.random() < 0.75  # most matchmakers in Chinese agencies are women
    name = fake.name_female() if female else fake.name_male()
    staff = Staff(
        username=username,
        name=name,
        role=role,
        store=store,
        supervisor=supervisor,
        mobile=fake.phone_number(),
        email=f"{username}@example.cn",
        wechat=f"wx_{username}",
        qq=str(rng.randint(10_000_000, 999_999_999)),
        address=store.address if store else "",
        public_title=f"{title}{name[0]}老师",
        show_on_site=role.name != "财务",
        sort_order=rng.randint(0, 50),
        experience=fake.paragraph(nb_sentences=3)[:500],
        motto=rng.choice(
            [
                "真诚服务，用心牵线",
                "让每一份缘分都被珍惜",
                "遇见对的人，从这里开始",
                "用专业成就幸福",
                "用心倾听，精准匹配",
            ]
        ),
        introduction=fake.paragraph(nb_sentences=4)[:500],
    )
    staff.set_password(DEMO_PASSWORD)
    staff.set_security_password(DEMO_SECURITY_PASSWORD)
    staff.save()
    staff.avatar.save(f"{username}.png", generated_avatar(username, female), save=True)
    return staff, True


def seed_staff(seed: int = 2026) -> dict[str, list[Staff]]:
    fake = Faker("zh_CN")
    Faker.seed(seed)
    rng = random.Random(seed)
    roles = {}
    for key, (name, description, scope, grants) in ROLES.items():
        roles[key], _ = Role.objects.get_or_create(
            name=name, defaults={"description": description, "data_scope": scope, "grants": grants}
        )
    stores = [
        Store.objects.get_or_create(name=n, defaults={"address": a, "phone": p})[0]
        for n, a, p in STORES
    ]
    admin, _ = _person(fake, rng, "admin", roles["administrator"], stores[0], None, "")
    if not admin.is_superuser:
        admin.name, admin.is_superuser = "系统管理员", True
        admin.save(update_fields=["name", "is_superuser"])
    people = {"admin": [admin], "managers": [], "matchmakers": [], "finance": []}
    for s_index, store in enumerate(stores, start=1):
        for m_index in (1, 2):
            mgr, _ = _person(
                fake, rng, f"mgr{s_index}{m_index}", roles["manager"], store, admin, "红娘经理"
            )
            people["managers"].append(mgr)
            for k in range(1, 4 + (m_index + s_index) % 2):
                kind = "presales" if k % 2 else "aftersales"
                title = "售前红娘" if kind == "presales" else "资深红娘"
                mm, _ = _person(
                    fake, rng, f"hn{s_index}{m_index}{k}", roles[kind], store, mgr, title
                )
                people["matchmakers"].append(mm)
    fin, _ = _person(fake, rng, "finance", roles["finance"], stores[0], admin, "")
    people["finance"].append(fin)
    return people
