"""Demo member accounts, so that the member centre and "log in as a member" can be tried."""

from hongniang.frontdesk.models import MemberAccount
from hongniang.members.models import Member

DEMO_ACCOUNTS = 20


def seed_member_accounts(password: str, count: int = DEMO_ACCOUNTS) -> list[Member]:
    """Accounts for the first `count` allocated demo members (idempotent); one hash for all."""
    members = list(Member.objects.filter(presales_owner__isnull=False).order_by("pk")[:count])
    have = set(MemberAccount.objects.filter(member__in=members).values_list("member_id", flat=True))
    template = MemberAccount()
    template.set_password(password)
    MemberAccount.objects.bulk_create(
        [MemberAccount(member=m, password=template.password) for m in members if m.pk not in have]
    )
    return members


# --- the public site ------------------------------------------------------------------------

FEATURED_PER_SEX = 4
BANNER_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def demo_banner(title: str, subtitle: str, hue: int):
    """A 1600×420 banner: a warm gradient with the agency's words (the CJK font if installed)."""
    from io import BytesIO
    from pathlib import Path

    from django.core.files.base import ContentFile
    from PIL import Image, ImageDraw, ImageFont

    width, height = 1600, 420
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for x in range(width):
        t = x / width
        draw.line(
            [(x, 0), (x, height)],
            fill=(int(194 + 50 * t), int(37 + 90 * t) % 256, int(92 + hue * t) % 256),
        )
    for i in range(7):  # a few soft hearts of light
        cx, cy, r = 1150 + i * 60, 80 + (i * 97) % 260, 30 + (i * 13) % 40
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 190, 210))
    if Path(BANNER_FONT).exists():
        big, small = ImageFont.truetype(BANNER_FONT, 88), ImageFont.truetype(BANNER_FONT, 40)
        draw.text((120, 120), title, font=big, fill=(255, 255, 255))
        draw.text((124, 250), subtitle, font=small, fill=(255, 236, 242))
    out = BytesIO()
    img.save(out, format="JPEG", quality=85)
    return ContentFile(out.getvalue(), name="banner.jpg")


def seed_public_site() -> None:
    """What the public home shows (idempotent): banners if none, featured members of each sex
    with an approved photo, matchmakers' years of experience, two success stories."""
    from datetime import date

    from hongniang.members import choices as c
    from hongniang.members.models import MemberPhoto
    from hongniang.portal import site_selectors as sel
    from hongniang.portal.models import StoryPhoto, SuccessStory
    from hongniang.siteconfig.models import ImageSlot, SiteImage
    from hongniang.staff.demo import generated_avatar
    from hongniang.staff.models import Staff

    if not SiteImage.objects.filter(kind=ImageSlot.BANNER).exists():
        for i, (title, subtitle) in enumerate(
            [
                ("一对一红娘服务", "个性化定制服务，只为你的幸福而来"),
                ("让天下有情人终成眷属", "白领精英的共同选择"),
            ]
        ):
            banner = SiteImage(kind=ImageSlot.BANNER, title=title, link="/join/", sort_order=i)
            banner.image.save("banner.jpg", demo_banner(title, subtitle, 60 + 80 * i), save=False)
            banner.save()
    for sex in (c.Sex.FEMALE, c.Sex.MALE):
        if sel.public_members().filter(sex=sex, site_featured=True).exists():
            continue
        for member in sel.public_members().filter(sex=sex).order_by("pk")[:FEATURED_PER_SEX]:
            if not member.photos.filter(status=c.PhotoStatus.APPROVED).exists():
                p = MemberPhoto(member=member, is_avatar=True, status=c.PhotoStatus.APPROVED)
                p.image.save(
                    "demo.png",
                    generated_avatar(f"member-{member.pk}", sex == c.Sex.FEMALE),
                    save=False,
                )
                p.save()
            member.site_featured = True
            member.save(update_fields=["site_featured"])
    for i, person in enumerate(
        Staff.objects.filter(show_on_site=True, years_of_experience__isnull=True)
    ):
        person.years_of_experience = 3 + (person.pk * 7 + i) % 12
        person.save(update_fields=["years_of_experience"])
    if SuccessStory.objects.exists():
        return
    admin = Staff.objects.filter(is_superuser=True).order_by("pk").first()
    women = list(sel.public_members().filter(sex=c.Sex.FEMALE).order_by("-pk")[:2])
    men = list(sel.public_members().filter(sex=c.Sex.MALE).order_by("-pk")[:2])
    texts = [
        (
            "相识一年，携手走进婚姻",
            "第一次见面是在红娘安排的茶室，两个人都有些拘谨。"
            "之后的每个周末，他们一起爬白云山、逛花市。一年后，他们在亲友的祝福中举行了婚礼。",
        ),
        (
            "慢慢来，比较快",
            "她说自己对另一半要求不高，只要真诚、有责任心。红娘了解她的想法后，"
            "为她介绍了同样认真生活的他。半年的相处让两人确定：就是彼此了。",
        ),
    ]
    for i, (woman, man) in enumerate(zip(women, men, strict=False)):
        if admin is None:
            break
        title, text = texts[i]
        story = SuccessStory.objects.create(
            title=title,
            member_a=woman,
            member_b=man,
            consent_a_on=date(2026, 3, 1 + i),
            consent_a_by=admin,
            consent_b_on=date(2026, 3, 2 + i),
            consent_b_by=admin,
            text=text,
            happened_on=date(2026 - i, 5, 20),
            store=woman.store,
            published=True,
            created_by=admin,
        )
        photo = StoryPhoto(story=story)
        photo.image.save("story.jpg", demo_banner("喜结良缘", title, 120 + 40 * i), save=False)
        photo.save()
