"""What else an import may do for the members it creates, offered by the apps above members (a
lower floor: it cannot call them itself). The member centre registers "open their accounts and
tell them by SMS" (`portal.apps`); the import wizard's confirm step shows each option to those
it allows, and the import job runs the chosen ones after its rows are committed."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ImportOption:
    key: str
    label: str
    # Whether the actor may choose it (asked on the confirm step and again in the job).
    allowed: Callable[[object], bool]
    # run(actor, member_ids, site_url, progress) -> {"summary": str, "count": int, ...}: its
    # "count" is shown among the import's result counts, under `count_label`.
    run: Callable[..., dict]
    count_label: str = ""
    # The most members it takes at once (None: no limit); over it the option is refused.
    limit: Callable[[], int | None] = lambda: None


_OPTIONS: dict[str, ImportOption] = {}


def register(option: ImportOption) -> None:
    _OPTIONS[option.key] = option


def available(actor) -> list[ImportOption]:
    """The options this actor may choose, in the order they were registered."""
    return [o for o in _OPTIONS.values() if o.allowed(actor)]


def get(key: str) -> ImportOption | None:
    return _OPTIONS.get(key)
