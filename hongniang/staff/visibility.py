"""Record visibility (whitepaper 2.2.1), built once and used by every owned model.

You see records owned by you and by everyone below you in the supervisor tree; a role's data scope
can narrow that to yourself or widen it to your store or to everything. The tree is stored as a
materialised path on the staff row ("/1/5/9/"), so "everyone below me" is one indexed prefix query.
"""

from contextvars import ContextVar

from django.db import models
from django.db.models import F, Func, OuterRef, Q, Subquery
from django.db.models.lookups import In, IsNull
from django.utils.translation import gettext_lazy as _


class DataScope(models.TextChoices):
    SELF = "self", _("Only own records")
    SUBTREE = "subtree", _("Own and subordinates' records")
    STORE = "store", _("Whole store")
    ALL = "all", _("All records")


def user_scope(user) -> str:
    if user.is_superuser:
        return DataScope.ALL
    role = user.role
    return role.data_scope if role is not None else DataScope.SELF


def visible_staff_q(user, prefix: str = "") -> Q:
    """Q selecting staff rows (through `prefix`, e.g. "owner__") the user may see."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    scope = user_scope(user)
    if scope == DataScope.ALL:
        return Q()
    if scope == DataScope.SELF:
        return Q(**{f"{prefix}pk": user.pk})
    q = Q(**{f"{prefix}path__startswith": user.path})
    if scope == DataScope.STORE and user.store_id:
        q |= Q(**{f"{prefix}store_id": user.store_id})
    return q


# The staff ids resolved during the current request, by viewer (see `visible_staff_ids`); None
# outside a request, where every call asks the database.
_resolved: ContextVar[dict | None] = ContextVar("visible_staff_ids", default=None)


def visible_staff_ids(user) -> tuple[int, ...]:
    """The ids of the staff whose records the user may see, as literal values.

    Owned models filter their owners on these (`owner_id IN (3, 7, 9)`) rather than on a
    subquery of the staff table: PostgreSQL plans an `IN (subquery)` on each of a member's two
    owners as a pass over every member, but answers literal ids through the owners' indexes (or
    walks a list's index and stops after a page). It is one small query on the staff table,
    made once per request and viewer (`VisibleStaffMiddleware`).
    """
    from hongniang.staff.models import Staff

    if not getattr(user, "is_authenticated", False):
        return ()
    scope = user_scope(user)
    if scope == DataScope.SELF:
        return (user.pk,)
    key = (user.pk, scope, user.path, user.store_id)
    resolved = _resolved.get()
    if resolved is not None and key in resolved:
        return resolved[key]
    ids = tuple(
        Staff.objects.filter(visible_staff_q(user)).order_by("pk").values_list("pk", flat=True)
    )
    if resolved is not None:
        resolved[key] = ids
    return ids


def staff_below(user) -> tuple[tuple[int, ...], bool]:
    """The ids of the user and everyone below them in the supervisor tree (whatever their data
    scope), as literal values, and whether that is every member of staff. Read once per request
    and user, like `visible_staff_ids` (the staff table is small; the tree does not move under
    a request)."""
    from hongniang.staff.models import Staff

    if not getattr(user, "is_authenticated", False):
        return (), False
    key = ("below", user.pk, user.path)
    resolved = _resolved.get()
    if resolved is not None and key in resolved:
        return resolved[key]
    paths = Staff.objects.order_by("pk").values_list("pk", "path")
    rows = list(paths)
    below = tuple(pk for pk, path in rows if path.startswith(user.path))
    answer = (below, len(below) == len(rows))
    if resolved is not None:
        resolved[key] = answer
    return answer


class VisibleStaffMiddleware:
    """Keeps the viewer's visible staff ids for the length of one request: a page tests
    visibility in several queries, and the staff tree does not move under it. A later request
    (or any code outside a request) asks again, so a change of team shows at once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _resolved.set({})
        try:
            return self.get_response(request)
        finally:
            _resolved.reset(token)


class Unindexed(Func):
    """A column as it is, except that SQLite is kept from looking it up through an index.

    SQLite plans without statistics and takes any index on an equality for a short cut; its
    documented way to keep a term off the indexes is a unary plus (`+column`). PostgreSQL keeps
    statistics and gets the plain column.
    """

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="(+%(expressions)s)", **extra_context)


class VisibleQuerySet(models.QuerySet):
    """Base queryset for any model with owner field(s): `Model.objects.visible_to(user)`.

    Subclasses name their owner foreign keys in `owner_fields`; a row is visible when any of its
    owners is visible (a member is visible through its pre-sales or its after-sales owner).
    """

    owner_fields: tuple[str, ...] = ("owner",)

    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user_scope(user) == DataScope.ALL:
            return self
        ids = visible_staff_ids(user)
        if len(self.owner_fields) == 1:
            return self.filter(**{f"{self.owner_fields[0]}_id__in": ids})
        # With several owners the test is an OR across columns, which SQLite answers through one
        # index per owner: it collects the id of every visible row, then reads each row to filter
        # and sort them (a manager's first page of members read ~25,000 rows). With the owners
        # kept off the indexes, it walks an index in the list's order instead (for members,
        # `member_list` and the other list indexes carry both owners), checks the owners there
        # and stops after a page; a count reads that index alone.
        q = Q()
        for field in self.owner_fields:
            q |= Q(In(Unindexed(F(f"{field}_id")), ids))
        return self.filter(q)

    def visible_among(self, user, rows) -> set | None:
        """The keys of those of `rows` (instances already read) the user may see: the test of
        `visible_to`, made on the owner keys the rows carry instead of asking the database
        again. None when a row was read without its owners (deferred), or is not saved."""
        rows = list(rows)
        names = [self.model._meta.get_field(f).attname for f in self.owner_fields]
        if any(r.pk is None or set(names) & r.get_deferred_fields() for r in rows):
            return None
        if not getattr(user, "is_authenticated", False):
            return set()
        if user_scope(user) == DataScope.ALL:
            return {r.pk for r in rows}
        ids = set(visible_staff_ids(user))
        return {r.pk for r in rows if any(getattr(r, name) in ids for name in names)}

    def visible_q(self, user, prefix: str) -> Q:
        """The same test as `visible_to`, on rows of another table that reach this one through
        `prefix` (e.g. "member__"): each row is tested by its own owners through a join.

        For a short range of those rows (contracts ending this week) this is cheaper than
        testing them against the viewer's keys collected first (`visible_keys`): collecting a
        manager's 22,000 members costs more than joining a few hundred rows to theirs."""
        if not getattr(user, "is_authenticated", False):
            return Q(pk__in=[])
        if user_scope(user) == DataScope.ALL:
            return Q()
        ids = visible_staff_ids(user)
        q = Q()
        for field in self.owner_fields:  # off the indexes: the outer rows lead, not the owners
            q |= Q(In(Unindexed(F(f"{prefix}{field}_id")), ids))
        return q

    def visible_parts(self, user) -> list:
        """The rows the user may see as disjoint querysets, one per owner field (visible through
        the first owner; else through the second; …), for a count or a grouping summed over the
        parts. Each part reads one range of its owner's index (PostgreSQL answers the OR of the
        owners, `visible_to`, with a pass over the whole table)."""
        if not getattr(user, "is_authenticated", False):
            return [self.none()]
        if user_scope(user) == DataScope.ALL:
            return [self]
        ids = visible_staff_ids(user)
        parts, earlier = [], []
        for field in self.owner_fields:
            part = self.filter(**{f"{field}_id__in": ids})
            for other in earlier:  # NULL-safe: Django's exclude keeps rows without that owner
                part = part.exclude(**{f"{other}_id__in": ids})
            parts.append(part)
            earlier.append(field)
        return parts

    def keyed_q(self, user, column) -> Q:
        """Rows of another table whose `column` (a key of this table, e.g. a follow-up's
        member) the user may see: one `IN` per owner, ORed (`column IN (keys of the rows the
        first owner field names) OR column IN (…second…)`).

        For a count over a range of another table (this month's follow-ups, the open
        introductions). PostgreSQL collects each owner's keys once, through that owner's index,
        into a hash the outer rows are tested against; with the keys as one subquery
        (`visible_keys`) it cannot estimate their number and probed the outer table once per key
        (22,000 probes for a manager). Pass the column off its index (`Unindexed`) for SQLite,
        which would otherwise probe its index once per key."""
        if not getattr(user, "is_authenticated", False):
            return Q(pk__in=[])
        if user_scope(user) == DataScope.ALL:
            return Q()
        ids = visible_staff_ids(user)
        q = Q()
        for field in self.owner_fields:
            q |= Q(In(column, self.filter(**{f"{field}_id__in": ids}).order_by().values("pk")))
        return q

    def key_visible_q(self, user, column: str) -> Q:
        """Rows of another table whose `column` (a key of this table) the user may see, each
        tested by looking its key up (a scalar subquery, which neither database turns into a
        join).

        For a count over a few rows of another table (this month's signings: about a thousand):
        a thousand key look-ups cost less than collecting a manager's 23,000 members for
        `keyed_q`. For many rows (this month's follow-ups: 80,000) `keyed_q` is cheaper."""
        if not getattr(user, "is_authenticated", False):
            return Q(pk__in=[])
        if user_scope(user) == DataScope.ALL:
            return Q()
        row = self.visible_to(user).filter(pk=OuterRef(column)).order_by().values("pk")[:1]
        return Q(IsNull(Subquery(row), False))

    def visible_keys(self, user, *, apart: bool = False):
        """The keys of the rows the user may see, as a subquery that other tables test their
        keys against (`In(…, keys)`), e.g. an appointment's two members.

        Unlike `visible_to`, the owners are looked up through their own indexes: a subquery is
        collected once, before the outer rows are read, so the cheapest way to collect it wins
        (a manager's 22,000 members: a range of the index per owner, not a walk over every
        member).

        `apart` keeps the owners apart (UNION ALL; a row may come twice, which an IN test does
        not mind), for a count of another table's rows: PostgreSQL answers an OR of the owners
        inside the subquery with a pass over the whole table. It is not the default because
        PostgreSQL cannot estimate how many keys a union yields: where the outer query also
        joins the owned table, it may probe that table once per key."""
        if not getattr(user, "is_authenticated", False):
            return self.none().values("pk")
        if user_scope(user) == DataScope.ALL:
            return self.order_by().values("pk")
        ids = visible_staff_ids(user)
        if apart:
            first, *rest = (
                self.filter(**{f"{field}_id__in": ids}).order_by().values("pk")
                for field in self.owner_fields
            )
            return first.union(*rest, all=True) if rest else first
        q = Q()
        for field in self.owner_fields:
            q |= Q(**{f"{field}_id__in": ids})
        return self.filter(q).order_by().values("pk")
