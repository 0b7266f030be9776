# The member centre's fixtures (a member with an account, a fresh engine).
from hongniang.portal.tests.conftest import after1, after_role, fresh_engine, member  # noqa: F401
