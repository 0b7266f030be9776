"""Limits on the public forms: fixed windows counted in the cache, per address and per mobile.

The same approach as the member form's live checks (`members.services.live_check_limited`):
the cache is shared by every web process in production (Redis or the database cache), so a
limit holds across processes; with the default local-memory cache it holds per process.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache

from hongniang.members import personal_data as pd


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


# What is kept (consultations, registrations) is limited tightly; attempts (a form sent back
# with errors) loosely, so that a visitor fixing typos is not locked out but a robot is.
CONSULT_PER_ADDRESS = Limit("consult-ip", 5, 3600)
CONSULT_PER_MOBILE = Limit("consult-mobile", 3, 86400)
REGISTER_PER_ADDRESS = Limit("register-ip", 5, 3600)
ATTEMPTS_PER_ADDRESS = Limit("attempt-ip", 30, 3600)
CHECKS_PER_ADDRESS = Limit("check-ip", 30, 60)


def client_address(request) -> str:
    """The visitor's address as the server saw it. Behind a proxy, the proxy must set
    REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips with nginx's real-ip), never a header
    the visitor could forge."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(limit: Limit, who: str) -> str:
    window = int(time.time() // limit.seconds)
    # Hashed: the cache holds no address or mobile in clear.
    return f"frontdesk:{limit.name}:{pd.lookup_hash(who)[:32]}:{window}"


def exceeded(limit: Limit, who: str) -> bool:
    """Whether `who` has already used up the limit in this window (does not count)."""
    return (cache.get(_key(limit, who)) or 0) >= limit.count


def hit(limit: Limit, who: str) -> bool:
    """Count one use; True once `who` is over the limit."""
    key = _key(limit, who)
    cache.add(key, 0, timeout=limit.seconds * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=limit.seconds * 2)
        count = 1
    return count > limit.count
