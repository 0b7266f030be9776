"""Start the periodic jobs that are due, once (for a cron-driven setup without `run_worker`)."""

from django.core.management.base import BaseCommand

from hongniang.jobs.services import start_due_periodic_jobs


class Command(BaseCommand):
    help = "Start the periodic jobs (nightly work, reminders) that are due, then exit."

    def handle(self, *args, **options):
        for job in start_due_periodic_jobs():
            self.stdout.write(f"Started {job.title} ({job.pk}).")
