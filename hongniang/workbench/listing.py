"""Lists in the workbench: sorting by whitelisted keys and pagination with the site's page size."""

import copy
import unicodedata
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import F, Lookup, Subquery
from django.utils.functional import cached_property

from hongniang.siteconfig.models import SiteSettings


@dataclass(frozen=True)
class Sorting:
    """Maps the `?sort=` keys a list offers to ORM orderings; anything else falls back."""

    options: dict[str, str]
    default: str

    def key(self, request) -> str:
        # A request, or the query parameters themselves (a form re-posting a list's filters).
        params = getattr(request, "GET", request)
        raw = params.get("sort", "")
        return raw if raw.lstrip("-") in self.options else self.default

    def apply(self, queryset, request):
        key = self.key(request)
        field = self.options[key.lstrip("-")]
        prefix = "-" if key.startswith("-") else ""
        return queryset.order_by(f"{prefix}{field}", f"{prefix}pk")


# The largest key a query string may name: a 64-bit integer (SQLite refuses larger ones in raw
# SQL and `pk__in`).
MAX_KEY = 2**63 - 1


def key_param(value) -> int | None:
    """A row's key from a query string or a form ("?member=12"): digits up to `MAX_KEY`, else
    None. `str.isdigit` alone lets "²" through to `int()` (an error), and huge numbers through
    to the database (an overflow): a hand-edited address then filters on nothing instead of
    failing. Fullwidth digits typed in a search box (１２) read as 12."""
    value = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not (value.isascii() and value.isdigit()):
        return None
    key = int(value)
    return key if 0 < key <= MAX_KEY else None


def page_size(kind: str = "crm") -> int:
    site = SiteSettings.load()
    return {
        "member": site.member_page_size,
        "matchmaker": site.matchmaker_page_size,
    }.get(kind, site.crm_page_size)


class _AnyOfKeys(Lookup):
    """`pk = ANY(ARRAY(SELECT pk … LIMIT n))` (PostgreSQL): the page's keys are collected
    first, as a value, and the rows looked up by them. Given `pk IN (SELECT … LIMIT n)`
    PostgreSQL may join the whole table to the related rows before it picks the page's
    (an introductions page read 43,000 pages of memory for its 20 rows)."""

    lookup_name = "any_of_keys"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


class KeyedPaginator(Paginator):
    """Reads a page in one query, in two steps: the keys of the page's rows, then those rows.

    The inner step (`pk IN (SELECT pk … ORDER BY … LIMIT … OFFSET …)`) only needs the filter
    and sort columns, so the database can answer it from an index without touching the table
    and without carrying wide rows through a sort; the outer step reads just the page's rows
    and their related objects. Any queryset that is not a plain list of model rows (values,
    distinct, annotations, set operations), or a database that cannot slice a subquery, is
    paginated the ordinary way.

    `counted`: the same rows as a queryset that counts faster (its filter written another way).
    """

    def __init__(self, object_list, per_page, *args, counted=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.counted = counted

    @cached_property
    def count(self):
        return self.counted.count() if self.counted is not None else super().count

    def page(self, number):
        qs = self.object_list
        query = getattr(qs, "query", None)
        if (
            query is None
            or not connections[qs.db].features.allow_sliced_subqueries_with_in
            or query.values_select
            or query.distinct
            or query.annotations
            or query.combinator
            or query.extra
        ):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = qs.values("pk")[bottom:top]
        rows = qs.model._base_manager.using(qs.db)
        if connections[qs.db].vendor == "postgresql":
            rows = rows.filter(_AnyOfKeys(F("pk"), Subquery(keys)))
        else:
            rows = rows.filter(pk__in=keys)
        rows.query.select_related = copy.deepcopy(query.select_related)
        rows.query.deferred_loading = query.deferred_loading
        rows._prefetch_related_lookups = qs._prefetch_related_lookups
        ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        return self._get_page(rows.order_by(*ordering), number, self)


def paginate(request, queryset, kind: str = "crm", *, keyed: bool = False, counted=None) -> Page:
    """One page of `queryset`; `keyed` reads it through its keys first, `counted` counts
    (see KeyedPaginator)."""
    if keyed:
        paginator = KeyedPaginator(queryset, page_size(kind), counted=counted)
    else:
        paginator = Paginator(queryset, page_size(kind))
    return paginator.get_page(request.GET.get("page"))
