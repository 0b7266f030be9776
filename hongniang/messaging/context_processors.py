from hongniang.messaging.models import Notice


def notices(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": Notice.objects.filter(recipient=user, read_at__isnull=True).count()}
