"""The background worker: queue again what a killed worker left running, then work the queue."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from hongniang.jobs.services import requeue_lost_jobs


class Command(BaseCommand):
    help = "Run the background-job worker (django-tasks-db), recovering jobs of a killed worker."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Work the queue, then exit.")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, batch=False, interval=1.0, **options):
        lost = requeue_lost_jobs()
        if lost:
            self.stdout.write(f"Queued again {len(lost)} job(s) left running by a stopped worker.")
        call_command(
            "db_worker",
            batch=batch,
            interval=interval,
            reload=False,
            startup_delay=False,
            verbosity=options.get("verbosity", 1),
        )
