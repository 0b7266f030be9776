"""The member centre's own records: staff logging in as a member (whitepaper 2.5.1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ImpersonationEnd(models.TextChoices):
    RETURNED = "returned", _("Returned to the workbench")
    STAFF_LOGOUT = "staff_logout", _("Staff logged out")
    SESSION_REPLACED = "session_replaced", _("Another login in the same browser")
    RIGHT_LOST = "right_lost", _("The right or the member's visibility was lost")
    EXPIRED = "expired", _("The staff session expired")


class Impersonation(models.Model):
    """One time a staff user browsed the member centre as a member: who, whom, from when to when.

    The identity taken is the member's account, never a staff user: the staff session stays what
    it was, and the member centre reads the member from this row."""

    staff = models.ForeignKey(
        "staff.Staff",
        verbose_name=_("staff"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(
        _("how it ended"), max_length=20, choices=ImpersonationEnd.choices, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("login as a member")
        verbose_name_plural = _("logins as a member")

    def __str__(self):
        return f"{self.staff_id} → {self.member_id}"
