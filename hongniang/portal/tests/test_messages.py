"""Flash messages stay on their side: a workbench message never shows on a member-centre page
(staff logged in as a member share one session), and a member-centre message never on a
workbench page."""

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from .conftest import MEMBER_PASSWORD, SECURITY_PASSWORD

pytestmark = pytest.mark.django_db

WORKBENCH_MESSAGE = "会员在财务审核通过其合同后自动签约"  # the journey page's refusal


def test_a_workbench_message_waits_for_the_workbench_while_browsing_as_a_member(
    client, after1, member
):
    client.force_login(after1)
    client.post(
        reverse("portal:impersonate", args=[member.pk]), {"security_password": SECURITY_PASSWORD}
    )
    # A workbench page (another tab) leaves a message for the next workbench page.
    client.get(reverse("members:journey_step", args=[member.pk, "sign"]))
    centre = client.get(reverse("portal:home")).content.decode()
    assert 'id="impersonation-banner"' in centre
    assert WORKBENCH_MESSAGE not in centre
    workbench = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert WORKBENCH_MESSAGE in workbench
    again = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert WORKBENCH_MESSAGE not in again  # shown once


def test_a_member_centre_message_waits_for_the_member_centre(client, org, member):
    client.post(reverse("portal:login"), {"identifier": "xiaofang", "password": MEMBER_PASSWORD})
    client.post(reverse("portal:logout"))  # "您已退出登录。" for the member's login page
    client.force_login(org["admin"])
    assert "您已退出登录" not in client.get(reverse("home:index")).content.decode()
    # The member's login page (a staff user may open it) shows it.
    assert "您已退出登录" in client.get(reverse("portal:login")).content.decode()


@pytest.mark.parametrize("first", ["/m/", "/members/"])
def test_each_side_reads_only_its_own_messages(first):
    """At the storage: what one side adds, the other side does not read (cookie or session)."""
    factory = RequestFactory()
    other = "/members/" if first == "/m/" else "/m/"

    def through(path, cookies, add=None):
        request = factory.get(path)
        request.COOKIES.update(cookies)
        seen = []

        def view(request):
            if add:
                messages.info(request, add)
            else:
                seen.extend(str(m) for m in messages.get_messages(request))
            return HttpResponse()

        response = SessionMiddleware(MessageMiddleware(view))(request)
        cookies.update({k: v.value for k, v in response.cookies.items()})
        return seen

    cookies: dict = {}
    through(first, cookies, add="hello")
    assert through(other, cookies) == []
    assert through(first, cookies) == ["hello"]
    assert through(first, cookies) == []
