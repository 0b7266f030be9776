from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save


class MatchingConfig(AppConfig):
    name = "hongniang.matching"
    label = "matching"

    def ready(self):
        # Every write that affects matching appends to the engine change log in its own
        # transaction (matching/index.py); these are the member-side ones.
        from hongniang.matching import adapter, index
        from hongniang.matching.models import EngineChangeKind
        from hongniang.members.models import MatePreference, Member
        from hongniang.members.signals import members_bulk_changed
        from hongniang.siteconfig.models import SiteSettings

        def member_saved(sender, instance, update_fields=None, **kwargs):
            # A save of fields the engine does not read (an allocation) changes nothing.
            if update_fields is None or set(update_fields) & adapter.MEMBER_FIELDS:
                index.record_members([instance.pk])

        def preference_changed(sender, instance, **kwargs):
            index.record_members([instance.member_id])

        def member_deleted(sender, instance, **kwargs):
            index.record_members([instance.pk])

        def bulk_changed(sender, member_ids, **kwargs):
            index.record_members(member_ids)

        def settings_saving(sender, instance, **kwargs):
            instance._matching_before = (
                sender.objects.filter(pk=instance.pk).values(*index.SETTINGS_FIELDS).first()
                if instance.pk
                else None
            )

        def settings_saved(sender, instance, created, **kwargs):
            before = getattr(instance, "_matching_before", None)
            after = {name: getattr(instance, name) for name in index.SETTINGS_FIELDS}
            if before is not None and before != after:  # the hard rules changed
                index.record(EngineChangeKind.SETTINGS)

        post_save.connect(member_saved, sender=Member, dispatch_uid="matching_member_saved")
        post_save.connect(
            preference_changed, sender=MatePreference, dispatch_uid="matching_pref_saved"
        )
        post_delete.connect(
            preference_changed, sender=MatePreference, dispatch_uid="matching_pref_deleted"
        )
        post_delete.connect(member_deleted, sender=Member, dispatch_uid="matching_member_deleted")
        members_bulk_changed.connect(bulk_changed, dispatch_uid="matching_members_bulk_changed")
        pre_save.connect(
            settings_saving, sender=SiteSettings, dispatch_uid="matching_settings_saving"
        )
        post_save.connect(
            settings_saved, sender=SiteSettings, dispatch_uid="matching_settings_saved"
        )
