from django.core.management.base import BaseCommand
from django.db import transaction

from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.demo import DEMO_PASSWORD, DEMO_SECURITY_PASSWORD, seed_staff


class Command(BaseCommand):
    help = "Create the demo agency (idempotent): stores, roles, staff and members."

    def add_arguments(self, parser):
        parser.add_argument(
            "--members", type=int, default=300, help="number of demo members to reach (default 300)"
        )
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, members: int, quiet: bool, **options):
        with transaction.atomic():
            site = SiteSettings.load()
            if not site.hotline:
                site.hotline = "400-800-5200"
                site.contact_phone = "020-66639775"
                site.address = "广州市天河区天河路242号"
                site.email = "service@hongniang.example.cn"
                site.about_us = "我们是一家专业的婚恋服务机构，提供一对一红娘服务。"
                site.save()
            people = seed_staff()
            try:  # the feature apps' demo data, where those apps are installed
                from hongniang.messaging.demo import seed_templates
            except ImportError:
                pass
            else:
                seed_templates()
        try:
            from hongniang.members.demo import seed_members
        except ImportError:
            seed_members = None
        if seed_members is not None and members:
            seed_members(target=members, people=people, verbose=not quiet)
        try:
            from hongniang.sales.demo import seed_follow_ups
        except ImportError:
            pass
        else:
            seed_follow_ups()
        try:
            from hongniang.portal.demo import seed_member_accounts
        except ImportError:
            with_accounts = []
        else:
            with_accounts = seed_member_accounts(DEMO_PASSWORD)
        try:
            from hongniang.finance.demo import seed_finance
        except ImportError:
            pass
        else:
            seed_finance()
        try:
            from hongniang.portal.demo import seed_public_site
        except ImportError:
            pass
        else:
            seed_public_site()
        if quiet:
            return
        self.stdout.write(
            self.style.SUCCESS(
                "Demo agency ready. Logins (password for all: "
                f"{DEMO_PASSWORD}, security password: "
                f"{DEMO_SECURITY_PASSWORD}):"
            )
        )
        rows = [("admin", "管理员 (administrator)")]
        rows += [(m.username, f"红娘经理 {m.name} · {m.store}") for m in people["managers"]]
        rows += [(m.username, f"{m.role} {m.name} · {m.store}") for m in people["matchmakers"][:4]]
        rows += [("finance", "财务 (finance)")]
        for username, label in rows:
            self.stdout.write(f"  {username:<10} {label}")
        self.stdout.write("  … every matchmaker is hn<store><team><n>, e.g. hn111, hn112")
        if with_accounts:
            self.stdout.write(
                f"Member centre (/m/login/, same password): {len(with_accounts)} demo members, "
                f"e.g. {with_accounts[0].username}"
            )
