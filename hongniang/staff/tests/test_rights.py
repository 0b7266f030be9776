"""Rights are never widened by their holder (issue 8, critical): the reported attacks over HTTP,
and the rules stated once per service."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from hongniang.staff import services
from hongniang.staff.models import Role, Staff, StaffStatus, Store
from hongniang.staff.permissions import ALL_GRANTS
from hongniang.staff.tests.factories import StaffFactory, role_with
from hongniang.staff.visibility import DataScope


def role_post(role: Role, **overrides) -> dict:
    data = {"name": role.name, "description": role.description, "data_scope": role.data_scope}
    data.update({f"grant__{g.replace('.', '__')}": "on" for g in role.grants})
    data.update(overrides)
    return data


def everything(name: str, scope: str = DataScope.ALL) -> dict:
    data = {"name": name, "description": "", "data_scope": scope}
    data.update({f"grant__{g.replace('.', '__')}": "on" for g in ALL_GRANTS})
    return data


def snapshot(role: Role) -> tuple:
    role.refresh_from_db()
    return role.name, role.data_scope, sorted(role.grants)


@pytest.mark.django_db
def test_manager_cannot_widen_own_role_over_http(client, org):
    role = org["manager_role"]
    before = snapshot(role)
    client.force_login(org["mgr1"])
    url = reverse("staff:role_edit", args=[role.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, everything("经理"))
    assert response.status_code == 403
    assert snapshot(role) == before
    # The reported escalation: afterwards settings and the audit log would have opened.
    assert client.get(reverse("siteconfig:edit")).status_code == 403


@pytest.mark.django_db
def test_manager_cannot_edit_or_delete_the_administrator_role(client, org):
    role = org["admin_role"]
    before = snapshot(role)
    client.force_login(org["mgr1"])
    url = reverse("staff:role_edit", args=[role.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, role_post(role, name="被改了")).status_code == 403
    client.post(reverse("staff:role_delete", args=[role.pk]))
    assert snapshot(role) == before


@pytest.mark.django_db
def test_manager_cannot_create_or_edit_a_role_beyond_own_rights(client, org):
    client.force_login(org["mgr1"])
    own = set(org["manager_role"].grants)
    # The form offers only the manager's own grants: the others are ignored, never stored.
    client.post(reverse("staff:role_create"), everything("后门", DataScope.SUBTREE))
    assert all(set(r.grants) <= own for r in Role.objects.filter(name="后门"))
    # The service refuses them outright, whatever form sent them.
    with pytest.raises(ValidationError):
        services.role_save(
            actor=org["mgr1"], role=Role(name="后门2", grants=list(ALL_GRANTS), data_scope="self")
        )
    assert not Role.objects.filter(name="后门2").exists()
    response = client.post(
        reverse("staff:role_create"),
        role_post(org["mm_role"], name="窄角色", data_scope=DataScope.ALL),
    )
    assert response.status_code == 200
    assert not Role.objects.filter(name="窄角色").exists()

    # A role only the manager's own people hold (mm_role is also held in another store).
    mm = role_with(*org["mm_role"].grants, name="助理")
    Staff.objects.filter(pk=org["aa1"].pk).update(role=mm)
    before = snapshot(mm)
    widened = role_post(mm, grant__settings__edit="on")
    client.post(reverse("staff:role_edit", args=[mm.pk]), widened)
    assert snapshot(mm) == before
    mm.grants = [*mm.grants, "settings.edit"]
    with pytest.raises(ValidationError):
        services.role_save(actor=org["mgr1"], role=mm)
    assert snapshot(mm) == before

    # Within their own rights a manager still manages such roles.
    renamed = role_post(mm, name="初级红娘")
    assert client.post(reverse("staff:role_edit", args=[mm.pk]), renamed).status_code == 302
    assert snapshot(mm)[0] == "初级红娘"
    response = client.post(reverse("staff:role_create"), role_post(mm, name="实习红娘"))
    assert response.status_code == 302 and Role.objects.filter(name="实习红娘").exists()


@pytest.mark.django_db
def test_administrator_role_only_by_superuser_or_another_administrator(org):
    admin, admin_role = org["admin"], org["admin_role"]
    admin_role.description = "changed"
    with pytest.raises(PermissionDenied):
        services.role_save(actor=admin, role=admin_role)  # the role they hold
    with pytest.raises(PermissionDenied):
        services.role_delete(actor=admin, role=Role.objects.get(pk=admin_role.pk))
    # An administrator still edits every other role.
    manager_role = org["manager_role"]
    manager_role.description = "edited by admin"
    services.role_save(actor=admin, role=manager_role)
    root = StaffFactory(username="root", role=None, is_superuser=True)
    services.role_save(actor=root, role=admin_role)
    assert Role.objects.get(pk=admin_role.pk).description == "changed"


@pytest.mark.django_db
def test_role_list_offers_edit_only_where_allowed(client, org):
    team_role = role_with("staff.view", "members.view", name="助理")
    Staff.objects.filter(pk=org["aa1"].pk).update(role=team_role)
    client.force_login(org["mgr1"])
    html = client.get(reverse("staff:roles")).content.decode()
    assert reverse("staff:role_edit", args=[team_role.pk]) in html
    # Also held by bb1 (another store, another manager's team): not mgr1's to change.
    assert reverse("staff:role_edit", args=[org["mm_role"].pk]) not in html
    assert reverse("staff:role_edit", args=[org["manager_role"].pk]) not in html
    assert reverse("staff:role_edit", args=[org["admin_role"].pk]) not in html
    assert reverse("staff:role_delete", args=[org["admin_role"].pk]) not in html


@pytest.fixture
def two_cities(org):
    gz, sz = Store.objects.create(name="广州天河店"), Store.objects.create(name="深圳福田店")
    mgr = StaffFactory(
        username="mgr11", role=org["manager_role"], store=gz, supervisor=org["admin"]
    )
    return {"gz": gz, "sz": sz, "mgr": mgr}


@pytest.mark.django_db
def test_manager_edits_only_own_store(client, org, two_cities):
    gz, sz, mgr = two_cities["gz"], two_cities["sz"], two_cities["mgr"]
    client.force_login(mgr)
    url = reverse("staff:store_edit", args=[sz.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "被改名", "sort_order": 0}).status_code == 403
    sz.refresh_from_db()
    assert sz.name == "深圳福田店"
    own = client.post(
        reverse("staff:store_edit", args=[gz.pk]), {"name": "广州天河旗舰店", "sort_order": 0}
    )
    assert own.status_code == 302
    gz.refresh_from_db()
    assert gz.name == "广州天河旗舰店"
    # Creating and deleting stores is for administrators (data scope "all").
    assert client.get(reverse("staff:store_create")).status_code == 403
    assert client.post(reverse("staff:store_create"), {"name": "新店", "sort_order": 0}).status_code
    assert not Store.objects.filter(name="新店").exists()
    client.post(reverse("staff:store_delete", args=[sz.pk]))
    assert Store.objects.filter(pk=sz.pk).exists()
    html = client.get(reverse("staff:stores")).content.decode()
    assert reverse("staff:store_edit", args=[gz.pk]) in html
    assert reverse("staff:store_edit", args=[sz.pk]) not in html
    assert reverse("staff:store_create") not in html


@pytest.mark.django_db
def test_store_scope_manager_cannot_touch_the_administrator_account(client, org):
    store_mgr_role = role_with(
        "staff.view", "staff.add", "staff.edit", "staff.delete", scope=DataScope.STORE
    )
    mgr = StaffFactory(username="storemgr", role=store_mgr_role, store=org["store_a"])
    admin = org["admin"]
    client.force_login(mgr)
    edit = reverse("staff:edit", args=[admin.pk])
    assert client.get(edit).status_code in (403, 404)
    response = client.post(
        edit,
        {
            "name": "hacked",
            "password": "Hacked-pass-2026",
            "role": store_mgr_role.pk,
            "store": org["store_a"].pk,
            "supervisor": mgr.pk,
            "sort_order": 0,
        },
    )
    assert response.status_code in (403, 404)
    client.post(
        reverse("staff:set_status", args=[admin.pk]),
        {"status": "locked", "security_password": "Secure-999"},
    )
    client.post(reverse("staff:delete", args=[admin.pk]), {"security_password": "Secure-999"})
    admin = Staff.objects.get(pk=admin.pk)
    assert admin.name != "hacked" and not admin.check_password("Hacked-pass-2026")
    assert admin.status == StaffStatus.NORMAL and admin.role == org["admin_role"]
    detail = client.get(reverse("staff:detail", args=[admin.pk])).content.decode()
    assert edit not in detail


@pytest.mark.django_db
def test_nobody_is_given_a_wider_role_by_edit(org):
    aa1 = Staff.objects.get(pk=org["aa1"].pk)
    aa1.role = org["admin_role"]
    with pytest.raises(ValidationError):
        services.staff_update(actor=org["mgr1"], staff=aa1)
    assert Staff.objects.get(pk=aa1.pk).role == org["mm_role"]


@pytest.mark.django_db
def test_store_scope_reach_stays_inside_the_actors_store(org, two_cities):
    """Whoever can set a person's password can act as them: a store-wide role handed out in
    another store would open that store to the actor."""
    store_role = role_with("staff.view", "staff.edit", "staff.add", scope=DataScope.STORE)
    mgr = StaffFactory(username="gzmgr", role=store_role, store=two_cities["gz"])
    newbie = Staff(
        username="spy01", name="探子", role=store_role, store=two_cities["sz"], supervisor=mgr
    )
    with pytest.raises(ValidationError):
        services.staff_create(actor=mgr, staff=newbie, password="Long-pass-2026")
    assert not Staff.objects.filter(username="spy01").exists()
    me = Staff.objects.get(pk=mgr.pk)
    me.store = two_cities["sz"]
    with pytest.raises(ValidationError):
        services.staff_update(actor=mgr, staff=me)
    assert Staff.objects.get(pk=mgr.pk).store == two_cities["gz"]


@pytest.mark.django_db
def test_own_profile_form_keeps_role_supervisor_and_store_fixed(client, org, two_cities):
    mgr = two_cities["mgr"]
    client.force_login(mgr)
    url = reverse("staff:edit", args=[mgr.pk])
    form = client.get(url).context["form"]
    assert form.fields["role"].disabled and form.fields["supervisor"].disabled
    assert form.fields["store"].disabled
    response = client.post(
        url,
        {
            "name": "自己改",
            "role": org["admin_role"].pk,
            "store": two_cities["sz"].pk,
            "supervisor": "",
            "sort_order": 0,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    mgr = Staff.objects.get(pk=mgr.pk)
    assert mgr.name == "自己改"
    assert (mgr.role, mgr.store, mgr.supervisor) == (
        org["manager_role"],
        two_cities["gz"],
        org["admin"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("scope", [DataScope.SUBTREE, DataScope.STORE])
def test_a_role_held_outside_the_actors_people_and_store_is_not_theirs_to_change(org, scope):
    """Found by the rights property test: a store-scoped manager raised a role held in another
    store to store scope, and its holder there gained a whole store the manager cannot see."""
    boss_role = role_with("staff.view", "staff.add", "staff.edit", scope=scope, name="店长")
    boss = StaffFactory(
        username="boss", role=boss_role, store=org["store_a"], supervisor=org["admin"]
    )
    shared = role_with("staff.view", "staff.add", scope=DataScope.SELF, name="共用角色")
    StaffFactory(username="mine", role=shared, store=org["store_a"], supervisor=boss)
    StaffFactory(username="theirs", role=shared, store=org["store_b"], supervisor=boss)
    before = snapshot(shared)
    shared.data_scope = DataScope.STORE if scope == DataScope.STORE else DataScope.SUBTREE
    with pytest.raises(PermissionDenied):
        services.role_save(actor=boss, role=shared)
    assert snapshot(shared) == before
    assert not services.may_manage_role(boss, shared)
    # Once only the actor's own people in their store hold it, it is theirs again.
    Staff.objects.filter(username="theirs").update(store=org["store_a"])
    services.role_save(actor=boss, role=shared)
    assert snapshot(shared)[1] == shared.data_scope
