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
