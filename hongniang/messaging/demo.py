"""Demo message templates (idempotent), so the demo agency can write to members at once."""

from hongniang.messaging.models import Channel, MessageTemplate

TEMPLATES = (
    ("生日祝福", Channel.SMS, "", "{name}，{agency}祝您生日快乐！愿您早日遇见对的人。"),
    (
        "联谊活动邀请",
        Channel.EMAIL,
        "周末联谊活动邀请",
        "{name}，您好：\n本周六下午我们举办单身联谊活动，诚邀您参加。"
        "如需报名请联系您的红娘{matchmaker}，或致电{hotline}。\n{agency}",
    ),
    ("约见提醒", "", "约见提醒", "{name}，您好，提醒您明天的约见，如有变化请告诉{matchmaker}。"),
)


def seed_templates() -> None:
    for name, channel, subject, body in TEMPLATES:
        MessageTemplate.objects.get_or_create(
            name=name, defaults={"channel": channel, "subject": subject, "body": body}
        )
