from hongniang.messaging.models import Message, Notice


def notices(request):
    """Unread notices (the bell) and unread messages from members (the envelope)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notices": Notice.objects.filter(recipient=user, read_at__isnull=True).count(),
        "unread_messages": Message.objects.filter(
            recipient_staff=user, read_at__isnull=True
        ).count(),
    }
