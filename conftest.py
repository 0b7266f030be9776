"""Suite-wide test set-up: no network except loopback (pytest-socket), fast hashing."""

import pytest


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    # Argon2 is deliberately slow; tests hash many passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = True
    # Background jobs run at once, inside the test; the worker itself has its own tests.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # The matching engine is built in-process where a test first needs it (production loads the
    # worker's snapshot: see hongniang/matching/tests/test_engine_start.py).
    settings.ENGINE_BUILD_IN_REQUEST = True
    settings.ENGINE_SNAPSHOT_DIR = tmp_path / "engine"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from hongniang.members import rendercache

    # Remembered widget renders are per process; each test has its own database.
    cache.clear()
    rendercache.clear()
    yield
    cache.clear()
    rendercache.clear()
