from django.utils import timezone

from hongniang.messaging.models import Notice


def notify(*, recipient, text: str, link: str = "") -> Notice | None:
    if recipient is None:
        return None
    return Notice.objects.create(recipient=recipient, text=text[:300], link=link[:300])


def notices_mark_read(*, user, pks=None) -> int:
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if pks is not None:
        qs = qs.filter(pk__in=pks)
    return qs.update(read_at=timezone.now())
