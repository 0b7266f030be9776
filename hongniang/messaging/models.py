from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    """An internal notice (站内通知) to one staff user, shown under the bell in the top bar."""

    recipient = models.ForeignKey("staff.Staff", on_delete=models.CASCADE, related_name="notices")
    text = models.CharField(_("text"), max_length=300)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_unread")]

    def __str__(self):
        return self.text
