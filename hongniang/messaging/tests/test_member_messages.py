"""Messages to members: internal, email, SMS; timeline, opt-outs, limits, visibility."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from hongniang.members.models import EventKind, MemberEvent
from hongniang.members.services import members_allocate
from hongniang.members.tests.helpers import add_member
from hongniang.messaging import services, texts
from hongniang.messaging.models import (
    Channel,
    Delivery,
    DeliveryReason,
    DeliveryStatus,
    Message,
    MessageTemplate,
)
from hongniang.messaging.sms import LoggingSmsBackend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "hongniang.messaging.sms.LoggingSmsBackend"
    LoggingSmsBackend.outbox.clear()
    yield
    LoggingSmsBackend.outbox.clear()


@pytest.fixture
def her(org):
    return add_member(org["aa1"], name="王小芳", mobile="13912345678", email="fang@example.com")


def send(actor, member, channel, body="{name}，您好", subject="问候"):
    return services.message_send(
        actor=actor, member=member, channel=channel, subject=subject, body=body
    )


def test_an_internal_message_is_stored_filled_in_and_on_the_timeline(org, her):
    delivery = send(org["aa1"], her, Channel.INTERNAL)
    assert delivery.status == DeliveryStatus.SENT
    message = delivery.message
    assert message.recipient_member == her and message.sender_staff == org["aa1"]
    assert message.body == "王小芳，您好" and message.read_at is None
    event = MemberEvent.objects.get(member=her, kind=EventKind.MESSAGE)
    assert event.actor == org["aa1"] and event.data["channel"] == "internal"


def test_email_goes_through_django_mail_with_the_name_filled_in(org, her):
    delivery = send(org["aa1"], her, Channel.EMAIL, body="亲爱的{name}：\n周末有活动。")
    assert delivery.status == DeliveryStatus.SENT
    (email,) = mail.outbox
    assert email.to == ["fang@example.com"] and email.subject == "问候"
    assert email.body == "亲爱的王小芳：\n周末有活动。"
    assert MemberEvent.objects.filter(member=her, kind=EventKind.MESSAGE).count() == 1


def test_an_email_needs_a_subject_and_an_address(org, her):
    with pytest.raises(ValidationError) as exc:
        send(org["aa1"], her, Channel.EMAIL, subject="")
    assert "subject" in exc.value.error_dict
    no_mail = add_member(org["aa1"], name="李四")
    delivery = send(org["aa1"], no_mail, Channel.EMAIL)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.reason_code == DeliveryReason.NO_CONTACT
    assert not mail.outbox
    assert not MemberEvent.objects.filter(member=no_mail, kind=EventKind.MESSAGE).exists()


def test_sms_goes_to_the_decrypted_mobile_which_is_stored_nowhere_else(org, her):
    delivery = send(org["aa1"], her, Channel.SMS, body="{surname}女士，明天见")
    assert delivery.status == DeliveryStatus.SENT and delivery.provider_ref
    assert LoggingSmsBackend.outbox == [("13912345678", "王女士，明天见")]
    stored = Delivery.objects.filter(pk=delivery.pk).values().get()
    assert "13912345678" not in str(stored)
    event = MemberEvent.objects.get(member=her, kind=EventKind.MESSAGE)
    assert "13912345678" not in event.summary + str(event.data)


def test_sms_is_short_and_limited_per_member_and_day(org, her):
    with pytest.raises(ValidationError):
        send(org["aa1"], her, Channel.SMS, body="长" * 301)
    for _ in range(services.DAILY_LIMIT[Channel.SMS]):
        assert send(org["aa1"], her, Channel.SMS).status == DeliveryStatus.SENT
    extra = send(org["aa1"], her, Channel.SMS)
    assert extra.status == DeliveryStatus.SKIPPED
    assert extra.reason_code == DeliveryReason.DAILY_LIMIT
    assert len(LoggingSmsBackend.outbox) == services.DAILY_LIMIT[Channel.SMS]


def test_a_member_who_refused_sms_gets_none_but_still_email(org, her, client):
    client.force_login(org["aa1"])
    url = reverse("member_messages:opt_out", args=[her.pk])
    client.post(url, {"channel": "sms", "refused": "1"})
    skipped = send(org["aa1"], her, Channel.SMS)
    assert skipped.status == DeliveryStatus.SKIPPED
    assert skipped.reason_code == DeliveryReason.OPTED_OUT
    assert LoggingSmsBackend.outbox == []
    assert send(org["aa1"], her, Channel.EMAIL).status == DeliveryStatus.SENT
    client.post(url, {"channel": "sms", "refused": "0"})
    assert send(org["aa1"], her, Channel.SMS).status == DeliveryStatus.SENT
    summaries = list(her.events.filter(kind=EventKind.UPDATED).values_list("summary", flat=True))
    assert any("短信" in s for s in summaries)


def test_a_matchmaker_cannot_message_another_teams_member(org, client):
    theirs = add_member(org["bb1"], name="赵秘密")
    with pytest.raises(PermissionDenied):
        send(org["aa1"], theirs, Channel.INTERNAL)
    client.force_login(org["aa1"])
    url = reverse("member_messages:compose", args=[theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"channel": "internal", "body": "你好"}).status_code == 404
    assert not Delivery.objects.exists() and not Message.objects.exists()


def test_compose_page_sends_and_says_so_with_the_members_label(org, her, client):
    MessageTemplate.objects.create(name="生日", body="{name}，生日快乐！{agency}")
    client.force_login(org["aa1"])
    url = reverse("member_messages:compose", args=[her.pk])
    template = MessageTemplate.objects.get()
    page = client.get(url, {"template": template.pk}).content.decode()
    assert "{name}，生日快乐！{agency}" in page
    response = client.post(url, {"channel": "internal", "body": "{name}，生日快乐！"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("members:detail", args=[her.pk])
    assert "王小芳" in response.content.decode()
    assert Message.objects.get().body == "王小芳，生日快乐！"


def test_bad_placeholders_are_refused_in_a_clear_message(org, her, client):
    client.force_login(org["aa1"])
    url = reverse("member_messages:compose", args=[her.pk])
    response = client.post(url, {"channel": "internal", "body": "{name.__class__}"})
    assert response.status_code == 200
    assert "未知的占位符" in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "text", ["{name.__class__}", "{name!r}", "{0}", "{name:>10}", "{}", "{mobile}", "{", "}"]
)
def test_the_formatter_allows_only_plain_known_placeholders(text):
    with pytest.raises(ValidationError):
        texts.fill(text, {"name": "张三"})


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=80))
def test_text_without_placeholders_comes_out_unchanged(text):
    assert texts.fill(text, {"name": "张三"}) == text


@given(st.lists(st.sampled_from(sorted(texts.PLACEHOLDERS)), max_size=6), st.text(max_size=10))
def test_placeholders_are_replaced_by_their_values_only(keys, value):
    values = {k: f"<{k}:{value}>" for k in texts.PLACEHOLDERS}
    text = "".join(f"a{{{k}}}" for k in keys)
    assert texts.fill(text, values) == "".join(f"a<{k}:{value}>" for k in keys)


def test_a_members_reply_lands_in_the_inbox_with_the_unread_count(org, her, client):
    sent = send(org["aa1"], her, Channel.INTERNAL).message
    services.member_message_read(member=her, message=sent)
    reply = services.message_from_member(
        member=her, to=org["aa1"], body="好的，谢谢", reply_to=sent
    )
    client.force_login(org["aa1"])
    page = client.get(reverse("home:index")).content.decode()
    assert "data-unread-messages>1<" in page
    inbox = client.get(reverse("member_messages:inbox")).content.decode()
    assert "好的，谢谢" in inbox and "王小芳" in inbox
    sent_box = client.get(reverse("member_messages:sent")).content.decode()
    assert "已读" in sent_box
    assert client.get(reverse("member_messages:detail", args=[reply.pk])).status_code == 200
    reply.refresh_from_db()
    assert reply.read_at is not None
    page = client.get(reverse("home:index")).content.decode()
    assert "data-unread-messages" not in page


def test_a_member_writes_only_to_their_own_matchmakers(org, her):
    with pytest.raises(PermissionDenied):
        services.message_from_member(member=her, to=org["bb1"], body="hi")
    other = add_member(org["aa2"], name="周五")
    sent = send(org["aa2"], other, Channel.INTERNAL).message
    with pytest.raises(PermissionDenied):  # answering a message sent to someone else
        services.message_from_member(member=her, to=org["aa2"], body="hi", reply_to=sent)


def test_the_inbox_masks_a_member_who_moved_to_another_team(org, her, client):
    """A reply stays in the old matchmaker's inbox; the member's name does not. (The text a
    matchmaker wrote stays as written: it was theirs to write.)"""
    sent = send(org["aa1"], her, Channel.INTERNAL, body="您好").message
    services.message_from_member(member=her, to=org["aa1"], body="收到", reply_to=sent)
    members_allocate(actor=org["admin"], members=[her], to=org["bb1"])
    client.force_login(org["aa1"])
    inbox = client.get(reverse("member_messages:inbox")).content.decode()
    sent_box = client.get(reverse("member_messages:sent")).content.decode()
    detail = client.get(reverse("member_messages:detail", args=[sent.pk])).content.decode()
    for page in (inbox, sent_box, detail):
        assert "王小芳" not in page and "王**" in page
        assert org["bb1"].name not in page
    # ...and they cannot write to the member any more.
    assert client.get(reverse("member_messages:compose", args=[her.pk])).status_code == 404


def test_templates_are_managed_by_settings_editors_and_checked(org, client):
    client.force_login(org["aa1"])
    assert client.get(reverse("member_messages:templates")).status_code == 403
    client.force_login(org["admin"])
    url = reverse("member_messages:template_create")
    bad = client.post(url, {"name": "坏", "channel": "", "body": "{name.__init__}"})
    assert bad.status_code == 200 and not MessageTemplate.objects.exists()
    too_long = client.post(url, {"name": "长", "channel": "sms", "body": "字" * 301})
    assert too_long.status_code == 200 and not MessageTemplate.objects.exists()
    ok = client.post(
        url, {"name": "问候", "channel": "sms", "body": "{name}您好", "is_active": "on"}
    )
    assert ok.status_code == 302
    template = MessageTemplate.objects.get()
    assert template.created_by == org["admin"]
    assert "问候" in client.get(reverse("member_messages:templates")).content.decode()
    client.post(reverse("member_messages:template_delete", args=[template.pk]))
    assert not MessageTemplate.objects.exists()
