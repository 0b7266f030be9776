"""The public site's sitemap (/sitemap.xml): its pages, the members shown, the stories."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from hongniang.portal import public_ids
from hongniang.portal import site_selectors as sel


class PagesSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        # Not the search: robots.txt keeps crawlers off its endless filter combinations; the
        # members it finds are listed one by one below.
        return ["portal:site_home", "portal:site_stories"]

    def location(self, item):
        return reverse(item)


class MembersSitemap(Sitemap):
    changefreq = "weekly"
    limit = 5000  # per sitemap file; /sitemap.xml indexes them

    def items(self):
        return sel.sitemap_members()

    def location(self, item):
        # One reverse for the lot: the code is the only part that changes.
        if not hasattr(self, "_prefix"):
            self._prefix = reverse("portal:site_member", args=["0"])[: -len("0/")]
        return f"{self._prefix}{public_ids.encode('member', item[0])}/"


class StoriesSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return sel.published_stories().order_by("-happened_on", "-pk").only("id", "updated_at")

    def location(self, item):
        return reverse("portal:site_story", args=[item.pk])

    def lastmod(self, item):
        return item.updated_at


SITEMAPS = {"pages": PagesSitemap, "members": MembersSitemap, "stories": StoriesSitemap}
