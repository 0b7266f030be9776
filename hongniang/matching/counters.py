"""Per-member appointment counters (`MatchStats.appointments`, `.appointments_planned`).

The appointment lists group members by how many appointments they have; counting them per
request meant counting every appointment of every member (seconds at 100,000 members). The
counters are recounted from the appointments of the members a change touches, in the same
transaction, so they cannot drift the way increments could: a recount after any change is right
whatever happened before it.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Q

PLANNED = "planned"  # AppointmentStatus.PLANNED; a literal so that migrations can use this module
BATCH = 2000


def count_appointments(*member_ids: int, create: bool = True) -> None:
    """Set the counters of these members from their appointments (call after the change).

    Their counter rows are locked first, in key order (two bookings never deadlock), so that of
    two concurrent changes to one member the later one counts the earlier one's rows too.
    `create=False` recounts only members that have a row already (see `appointment_deleted`)."""
    from hongniang.matching.models import Appointment, MatchStats

    ids = sorted({pk for pk in member_ids if pk is not None})
    if create:
        for pk in ids:
            MatchStats.objects.get_or_create(member_id=pk)
    locked = MatchStats.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    ids = list(locked.values_list("pk", flat=True))
    if not ids:
        return
    total, planned = dict.fromkeys(ids, 0), dict.fromkeys(ids, 0)
    rows = Appointment.objects.filter(Q(member_id__in=ids) | Q(partner_id__in=ids))
    for member_id, partner_id, status in rows.values_list("member_id", "partner_id", "status"):
        for pk in (member_id, partner_id):
            if pk in total:
                total[pk] += 1
                planned[pk] += status == PLANNED
    for pk in ids:
        MatchStats.objects.filter(pk=pk).update(
            appointments=total[pk], appointments_planned=planned[pk]
        )


def count_all_appointments(stats_model=None, appointment_model=None) -> int:
    """Recount every member's counters (the data migration, and seeding that bypasses the
    services); returns the number of members with appointments. Takes the models so that a
    migration can pass its historical ones."""
    if stats_model is None or appointment_model is None:
        from hongniang.matching.models import Appointment, MatchStats

        stats_model, appointment_model = MatchStats, Appointment
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows = appointment_model.objects.values_list("member_id", "partner_id", "status")
    for member_id, partner_id, status in rows.iterator(chunk_size=BATCH):
        for pk in (member_id, partner_id):
            counts[pk][0] += 1
            counts[pk][1] += status == PLANNED
    with transaction.atomic():
        stats_model.objects.exclude(appointments=0, appointments_planned=0).update(
            appointments=0, appointments_planned=0
        )
        stats_model.objects.bulk_create(
            [stats_model(member_id=pk) for pk in counts], batch_size=BATCH, ignore_conflicts=True
        )
        stats_model.objects.bulk_update(
            [
                stats_model(member_id=pk, appointments=n, appointments_planned=p)
                for pk, (n, p) in counts.items()
            ],
            ["appointments", "appointments_planned"],
            batch_size=500,
        )
    return len(counts)


def appointment_deleted(sender, instance, **kwargs) -> None:
    """post_delete of an appointment. No screen deletes one, but a member's deletion cascades to
    their appointments: the other side's counters follow in the same transaction. No counter row
    is created here: the deleted member's own row may already be gone with them."""
    count_appointments(instance.member_id, instance.partner_id, create=False)
