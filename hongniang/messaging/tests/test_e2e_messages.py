"""In a browser: write to a member from their page, read the reply in the inbox."""

import pytest

from hongniang.conftest import login, shot
from hongniang.members.tests.helpers import add_member
from hongniang.messaging import services
from hongniang.messaging.models import Message, MessageTemplate
from hongniang.staff.tests.factories import PASSWORD


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_compose_from_the_member_page_and_read_the_reply(page, org, regions):
    member = add_member(org["aa1"], name="王小芳", email="fang@example.com")
    MessageTemplate.objects.create(
        name="活动邀请", subject="周末活动", body="{name}，周六联谊会见！"
    )
    login(page, "aa1", PASSWORD)
    base = page.base_url
    page.goto(f"{base}/members/{member.pk}/")
    page.click(f'a[href="/messages/to/{member.pk}/"]')
    page.select_option("select[name=template]", label="活动邀请")
    page.click("text=使用模板")
    assert page.input_value("textarea[name=body]") == "{name}，周六联谊会见！"
    shot(page, "messages-compose")
    page.click("button:has-text('发送')")
    page.wait_for_url(f"{base}/members/{member.pk}/")
    assert "已发送消息给" in page.inner_text(".alert")
    sent = Message.objects.get()
    assert sent.body == "王小芳，周六联谊会见！"
    services.message_from_member(member=member, to=org["aa1"], body="好的，一定到", reply_to=sent)
    page.goto(f"{base}/messages/")
    assert page.inner_text("[data-unread-messages]") == "1"
    shot(page, "messages-inbox")
    page.click("text=好的，一定到")
    assert "好的，一定到" in page.inner_text(".message-body")
    page.goto(f"{base}/messages/sent/")
    shot(page, "messages-sent")
    page.goto(f"{base}/members/")
    page.check(f"input[name=members][value='{member.pk}']")
    page.click("text=给选中的会员发消息")
    page.wait_for_url("**/messages/bulk/**")
    shot(page, "messages-bulk")
