"""Lists in the workbench: sorting by whitelisted keys and pagination with the site's page size."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from hongniang.siteconfig.models import SiteSettings


@dataclass(frozen=True)
class Sorting:
    """Maps the `?sort=` keys a list offers to ORM orderings; anything else falls back."""

    options: dict[str, str]
    default: str

    def key(self, request) -> str:
        raw = request.GET.get("sort", "")
        return raw if raw.lstrip("-") in self.options else self.default

    def apply(self, queryset, request):
        key = self.key(request)
        field = self.options[key.lstrip("-")]
        prefix = "-" if key.startswith("-") else ""
        return queryset.order_by(f"{prefix}{field}", f"{prefix}pk")


def page_size(kind: str = "crm") -> int:
    site = SiteSettings.load()
    return {
        "member": site.member_page_size,
        "matchmaker": site.matchmaker_page_size,
    }.get(kind, site.crm_page_size)


def paginate(request, queryset, kind: str = "crm") -> Page:
    paginator = Paginator(queryset, page_size(kind))
    return paginator.get_page(request.GET.get("page"))
