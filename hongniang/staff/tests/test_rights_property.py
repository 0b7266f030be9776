"""Property: for random roles, people and stores, no sequence of role, staff and store edits made
by one user ends with anyone holding a right or a data scope that user lacked (issue 8)."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.staff import services
from hongniang.staff.models import Role, Staff, Store
from hongniang.staff.permissions import ALL_GRANTS
from hongniang.staff.services import SCOPE_ORDER
from hongniang.staff.visibility import DataScope

STAFF_GRANTS = ["staff.view", "staff.add", "staff.edit", "staff.delete"]
# A small universe makes "one role's grants are a subset of another's" common, so the rules
# are exercised on both sides; the administrator's full set is added as a role of its own.
OTHER_GRANTS = ["settings.edit", "members.reveal", "members.export", "finance.approve"]

grant_sets = st.sets(st.sampled_from(STAFF_GRANTS + OTHER_GRANTS)).map(sorted)
scopes = st.sampled_from(SCOPE_ORDER)
pick = st.integers(min_value=0, max_value=30)

operations = st.one_of(
    st.tuples(st.just("role_save"), st.none() | pick, grant_sets, scopes),
    st.tuples(st.just("role_delete"), pick),
    st.tuples(st.just("staff_update"), pick, pick, pick, pick, st.booleans()),
    st.tuples(st.just("staff_create"), pick, pick, pick),
    st.tuples(st.just("store_save"), st.none() | pick),
    st.tuples(st.just("store_delete"), pick),
)

org_specs = st.fixed_dictionaries(
    {
        # The actor's role leans towards staff management, so most operations get past the
        # module check and reach the rules under test.
        "actor_role": st.tuples(grant_sets.map(lambda g: sorted({*g, *STAFF_GRANTS})), scopes),
        # Narrowed roles fit inside the actor's, so their holders are people the actor manages.
        "roles": st.lists(st.tuples(grant_sets, scopes, st.booleans()), min_size=1, max_size=4),
        "people": st.lists(st.tuples(pick, pick, pick), min_size=2, max_size=6),
        "actor_pick": pick,
        "with_superuser": st.booleans(),
        "ops": st.lists(operations, min_size=1, max_size=12),
    }
)

_names = itertools.count()


def _name(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


def rights(person: Staff) -> tuple[frozenset[str], int]:
    if person.is_superuser:
        return frozenset(ALL_GRANTS), SCOPE_ORDER.index(DataScope.ALL)
    role = person.role
    if role is None:
        return frozenset(), SCOPE_ORDER.index(DataScope.SELF)
    return frozenset(role.grants), SCOPE_ORDER.index(role.data_scope)


def build_org(spec):
    stores = [Store.objects.create(name=_name("店")) for _ in range(2)]
    roles = [Role.objects.create(name=_name("管理员"), grants=list(ALL_GRANTS), data_scope="all")]
    own_grants, own_scope = spec["actor_role"]
    for grants, scope, narrow in spec["roles"]:
        if narrow:
            grants = sorted(set(grants) & set(own_grants))
            scope = SCOPE_ORDER[min(SCOPE_ORDER.index(scope), SCOPE_ORDER.index(own_scope))]
        roles.append(Role.objects.create(name=_name("角色"), grants=grants, data_scope=scope))
    actor_role = Role.objects.create(name=_name("本人"), grants=own_grants, data_scope=own_scope)
    roles.append(actor_role)
    people = []
    if spec["with_superuser"]:
        people.append(
            Staff.objects.create_superuser(
                _name("root"), "x-Pass-2026", name="root", store=stores[0]
            )
        )
    for role_pick, store_pick, parent_pick in spec["people"]:
        parent = people[parent_pick % len(people)] if people and parent_pick % 4 else None
        people.append(
            Staff.objects.create_user(
                _name("p"),
                "x-Pass-2026",
                name="人",
                role=roles[role_pick % len(roles)],
                store=stores[store_pick % 2],
                supervisor=parent,
            )
        )
    candidates = [p for p in people if not p.is_superuser]
    actor = candidates[spec["actor_pick"] % len(candidates)]
    Staff.objects.filter(pk=actor.pk).update(role=actor_role)
    return actor.pk


def apply(op, actor_pk):
    """One operation as the actor, reloaded as a request would load it."""
    actor = Staff.objects.select_related("role", "store").get(pk=actor_pk)
    roles = list(Role.objects.order_by("pk"))
    stores = list(Store.objects.order_by("pk"))
    people = list(Staff.objects.order_by("pk"))
    # Half the picks come from what the actor could choose on a form, so that permitted edits
    # happen often; the other half reach for anyone and anything.
    visible = list(Staff.objects.visible_to(actor).order_by("pk"))
    offered = list(services.assignable_roles(actor).order_by("pk")) or roles

    def person(n):
        return (visible if n % 2 else people)[n // 2 % len(visible if n % 2 else people)]

    def role_for(n):
        return (offered if n % 2 else roles)[n // 2 % len(offered if n % 2 else roles)]

    kind = op[0]
    if kind == "role_save":
        _, which, grants, scope = op
        role = (
            Role(name=_name("新角色")) if which is None or not roles else roles[which % len(roles)]
        )
        role.grants, role.data_scope = grants, scope
        services.role_save(actor=actor, role=role)
    elif kind == "role_delete":
        services.role_delete(actor=actor, role=roles[op[1] % len(roles)])
    elif kind == "staff_update":
        _, who, role_pick, store_pick, boss_pick, new_password = op
        target = person(who)
        target.role = role_for(role_pick)
        target.store = stores[store_pick % len(stores)] if stores else None
        target.supervisor = person(boss_pick)
        services.staff_update(
            actor=actor, staff=target, password="y-Pass-2026" if new_password else ""
        )
    elif kind == "staff_create":
        _, role_pick, store_pick, boss_pick = op
        newcomer = Staff(
            username=_name("new"),
            name="新人",
            role=role_for(role_pick),
            store=stores[store_pick % len(stores)] if stores else None,
            supervisor=person(boss_pick),
        )
        services.staff_create(actor=actor, staff=newcomer, password="z-Pass-2026")
    elif kind == "store_save":
        store = Store(name=_name("新店")) if op[1] is None else stores[op[1] % len(stores)]
        store.name = _name("改名店")
        services.store_save(actor=actor, store=store)
    elif kind == "store_delete":
        services.store_delete(actor=actor, store=stores[op[1] % len(stores)])


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(spec=org_specs)
def test_no_sequence_of_edits_widens_anyones_rights(spec):
    with transaction.atomic():
        actor_pk = build_org(spec)
        actor = Staff.objects.select_related("role").get(pk=actor_pk)
        own_grants, own_scope = rights(actor)
        own_store = actor.store_id
        before_people = {
            p.pk: (rights(p), p.store_id, p.role_id, p.is_superuser)
            for p in Staff.objects.select_related("role")
        }
        before_roles = {r.pk: (frozenset(r.grants), r.data_scope) for r in Role.objects.all()}

        for op in spec["ops"]:
            try:
                with transaction.atomic():
                    apply(op, actor_pk)
            except (PermissionDenied, ValidationError):
                pass

            for person in Staff.objects.select_related("role"):
                (grants, scope) = rights(person)
                (was_grants, was_scope), was_store, was_role, was_super = before_people.get(
                    person.pk, ((frozenset(), 0), None, None, False)
                )
                assert grants <= was_grants | own_grants, (op, person.username)
                assert scope <= max(was_scope, own_scope), (op, person.username)
                assert person.is_superuser <= was_super, (op, person.username)
                reach_changed = (person.store_id, person.role_id) != (was_store, was_role)
                if reach_changed and scope == SCOPE_ORDER.index(DataScope.STORE):
                    # Store-wide reach handed out only inside the actor's store (or by "all").
                    assert own_scope == 3 or person.store_id == own_store, (op, person.username)
            for role in Role.objects.all():
                now = (frozenset(role.grants), role.data_scope)
                if before_roles.get(role.pk) != now:
                    assert now[0] <= own_grants, (op, role.name)
                    assert SCOPE_ORDER.index(now[1]) <= own_scope, (op, role.name)
        transaction.set_rollback(True)
