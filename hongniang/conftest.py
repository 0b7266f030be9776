import pytest

from hongniang.staff.tests.factories import StaffFactory, StoreFactory, role_with
from hongniang.staff.visibility import DataScope


@pytest.fixture
def org(db):
    """A small agency: admin → two managers (one per store... both in store A) → matchmakers."""
    store_a, store_b = StoreFactory(name="A店"), StoreFactory(name="B店")
    admin_role = role_with(*_all(), scope=DataScope.ALL, name="管理员")
    manager_role = role_with(
        "staff.view",
        "staff.add",
        "staff.edit",
        "staff.delete",
        "members.view",
        "members.add",
        "members.edit",
        "members.export",
        "members.allocate",
        "presales.view",
        "aftersales.view",
        name="经理",
    )
    # A matchmaker of both kinds: members are allocated only to roles of their kind.
    mm_role = role_with(
        "staff.view",
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "aftersales.view",
        name="红娘",
    )
    admin = StaffFactory(username="admin", role=admin_role, store=store_a)
    m1 = StaffFactory(username="mgr1", role=manager_role, store=store_a, supervisor=admin)
    m2 = StaffFactory(username="mgr2", role=manager_role, store=store_a, supervisor=admin)
    a1 = StaffFactory(username="aa1", role=mm_role, store=store_a, supervisor=m1)
    a2 = StaffFactory(username="aa2", role=mm_role, store=store_a, supervisor=m1)
    b1 = StaffFactory(username="bb1", role=mm_role, store=store_b, supervisor=m2)
    return {
        "admin": admin,
        "mgr1": m1,
        "mgr2": m2,
        "aa1": a1,
        "aa2": a2,
        "bb1": b1,
        "store_a": store_a,
        "store_b": store_b,
        "manager_role": manager_role,
        "mm_role": mm_role,
        "admin_role": admin_role,
    }


def _all():
    from hongniang.staff.permissions import ALL_GRANTS

    return ALL_GRANTS


@pytest.fixture(autouse=True)
def _member_files_in_tmp(settings, tmp_path_factory):
    """Members' uploaded files go to a temporary folder in every test, never into the repo."""
    settings.MEMBER_FILES_ROOT = tmp_path_factory.mktemp("member-files")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; no browser download, no network."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself (fixtures, assertions) are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base_url = live_server.url
    yield page
    context.close()


def shot(page, name: str):
    """Save a screenshot under test-artifacts/ for a person to look at."""
    from pathlib import Path

    out = Path(__file__).resolve().parent.parent / "test-artifacts"
    out.mkdir(exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def login(page, username: str, password: str):
    page.goto(f"{page.base_url}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{page.base_url}/workbench/")


@pytest.fixture
def regions(db):
    """China's administrative divisions, loaded from the packaged table."""
    from hongniang.members.regions import load_regions

    load_regions()


@pytest.fixture
def seeded_agency(regions, settings, tmp_path):
    """The demo agency in small: stores, roles and staff as `seed_demo` makes them, members with
    birthdays, regions, multi-selects and preferences, photos, site images, an appointment, an
    introduction request and a success story. Uploaded files go to a temporary MEDIA_ROOT."""
    from datetime import timedelta

    from django.utils import timezone

    from hongniang.matching.models import Appointment, IntroductionRequest
    from hongniang.members.demo import seed_members
    from hongniang.members.models import Member, MemberPhoto
    from hongniang.messaging.demo import seed_templates
    from hongniang.siteconfig.models import ImageSlot, SiteImage, SiteSettings
    from hongniang.staff.demo import generated_avatar, seed_staff

    settings.MEDIA_ROOT = tmp_path / "media"
    site = SiteSettings.load()
    site.hotline, site.address = "400-800-5200", "广州市天河区天河路242号"
    site.logo.save("logo.png", generated_avatar("logo", False), save=False)
    site.save()
    people = seed_staff()
    seed_members(target=24, people=people, verbose=False)
    seed_templates()
    members = list(Member.objects.order_by("pk"))
    for member in members[:3]:
        photo = MemberPhoto(member=member, is_avatar=True, status="approved")
        photo.image.save("avatar.png", generated_avatar(member.username, True), save=False)
        photo.save()
    for kind in ImageSlot.values:
        image = SiteImage(kind=kind, title=f"{kind} 1", link="/")
        image.image.save(f"{kind}.png", generated_avatar(kind, False), save=False)
        image.save()
    women = [m for m in members if m.sex == "F" and m.presales_owner_id]
    men = [m for m in members if m.sex == "M" and m.presales_owner_id]
    admin = people["admin"][0]
    Appointment.objects.create(
        member=women[0],
        partner=men[0],
        starts_at=(timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0),
        place="天河城咖啡馆",
        arranged_by=admin,
        notes="第一次见面",
    )
    IntroductionRequest.objects.create(
        member=women[1], target=men[1], message="想认识一下", entered_by=admin
    )
    from hongniang.finance import services as finance
    from hongniang.finance.demo import seed_finance
    from hongniang.finance.models import Contract, ServicePlan

    seed_finance()
    start = timezone.localdate()
    finance.contract_save(
        actor=admin,
        contract=Contract(
            member=women[2],
            amount=12800,
            service_start=start,
            service_end=start + timedelta(days=365),
            signed_by=admin,
            store=admin.store,
            remark="草稿合同",
        ),
        plans=[ServicePlan.objects.first()],
    )
    from django.apps import apps

    # By name: the feature apps' tests import this module, and none of them may import portal.
    apps.get_model("portal", "SuccessStory").objects.create(
        title="相识一年，携手走进婚姻",
        member_a=women[3],
        member_b=men[3],
        consent_a_on=start,
        consent_a_by=admin,
        consent_b_on=start,
        consent_b_by=admin,
        text="第一次见面是在红娘安排的茶室。",
        happened_on=start,
        store=women[3].store,
        published=True,
        created_by=admin,
    )
    return people
