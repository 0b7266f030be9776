import factory

from hongniang.staff.models import Role, Staff, Store
from hongniang.staff.permissions import ALL_GRANTS
from hongniang.staff.visibility import DataScope

PASSWORD = "Pass-1234-word"


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"门店{n}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"角色{n}")
    data_scope = DataScope.SUBTREE
    grants = factory.LazyFunction(lambda: list(ALL_GRANTS))


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"红娘{n}")
    role = factory.SubFactory(RoleFactory)
    store = factory.SubFactory(StoreFactory)
    security_password = ""

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        obj.set_security_password("Secure-999")
        if create:
            obj.save()


def role_with(*grants: str, scope: str = DataScope.SUBTREE, name: str | None = None) -> Role:
    kwargs = {"grants": list(grants), "data_scope": scope}
    if name:
        kwargs["name"] = name
    return RoleFactory(**kwargs)
