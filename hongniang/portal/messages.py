"""Flash messages of the member centre and of the workbench, kept apart.

One browser can hold a staff session and, while the staff user logs in as a member, the member
centre in the same session: with one message store, a workbench message ("allocated 3 members to
…") would show on the member's pages and the other way round. Each side keeps its own cookie and
session key, chosen by the path of the request that adds or shows the messages (the member
centre lives under /m/).
"""

from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.messages.storage.session import SessionStorage
from django.urls import reverse

MEMBER_COOKIE = "member_messages"
MEMBER_SESSION_KEY = "_member_messages"


def in_member_centre(request) -> bool:
    return request.path_info.startswith(reverse("portal:home"))


class SeparateMessageStorage(FallbackStorage):
    """Django's cookie-then-session storage, under other names on member-centre pages."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if in_member_centre(request):
            for storage in self.storages:
                if isinstance(storage, CookieStorage):
                    storage.cookie_name = MEMBER_COOKIE
                elif isinstance(storage, SessionStorage):
                    storage.session_key = MEMBER_SESSION_KEY
