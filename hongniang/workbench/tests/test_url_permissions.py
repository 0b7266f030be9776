"""Walk every workbench URL: no module permission → 403; a record outside one's view → 404."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import UUIDConverter

from hongniang.staff.tests.factories import StaffFactory, role_with


def guarded_patterns():
    """(url name, pattern, (module, action)) for every view guarded by require_perm."""
    found = []

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern):
                perm = getattr(p.callback, "required_perm", None)
                if perm:
                    found.append((f"{namespace}{p.name}", p, perm))

    walk(get_resolver().url_patterns, "")
    return found


def url_for(name, pattern, pk):
    kwargs = {
        k: uuid.UUID(int=pk) if isinstance(converter, UUIDConverter) else pk
        for k, converter in pattern.pattern.converters.items()
    }
    return reverse(name, kwargs=kwargs)


def test_every_workbench_module_view_is_guarded():
    names = {name for name, _p, _perm in guarded_patterns()}
    assert {
        "staff:list",
        "staff:create",
        "staff:roles",
        "siteconfig:edit",
        "siteconfig:audit",
    } <= names


@pytest.mark.django_db
@pytest.mark.parametrize("name,pattern,perm", guarded_patterns(), ids=lambda v: str(v)[:40])
def test_missing_module_permission_gives_403(client, org, name, pattern, perm):
    module, action = perm
    # Everything except the one grant the view needs.
    from hongniang.staff.permissions import ALL_GRANTS

    role = role_with(*[g for g in ALL_GRANTS if g != f"{module}.{action}"])
    user = StaffFactory(role=role, store=org["store_a"], supervisor=org["admin"])
    client.force_login(user)
    url = url_for(name, pattern, org["aa1"].pk)
    # The permission check comes first, whatever the method.
    assert client.get(url).status_code == 403, url
    assert client.post(url).status_code == 403, url


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,pattern,perm",
    [
        g
        for g in guarded_patterns()
        if g[0].startswith("staff:")
        and "pk" in g[1].pattern.converters
        and "role" not in g[0]
        and "store" not in g[0]
    ],
    ids=lambda v: str(v)[:40],
)
def test_record_outside_visibility_gives_404(client, org, name, pattern, perm):
    # mgr2 has every staff action but aa1 belongs to mgr1's team.
    client.force_login(org["mgr2"])
    url = url_for(name, pattern, org["aa1"].pk)
    response = (
        client.post(url, {"security_password": "Secure-999", "status": "locked"})
        if _post_only(pattern)
        else client.get(url)
    )
    assert response.status_code == 404, url
    own = url_for(name, pattern, org["bb1"].pk)
    if not _post_only(pattern):
        assert client.get(own).status_code == 200


def _post_only(pattern) -> bool:
    return any(s in str(pattern.pattern) for s in ("delete/", "status/"))


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("staff:list"))
    assert response.status_code == 302
    assert reverse("staff:login") in response["Location"]
