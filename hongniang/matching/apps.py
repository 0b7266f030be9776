from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


class MatchingConfig(AppConfig):
    name = "hongniang.matching"
    label = "matching"

    def ready(self):
        from hongniang.matching import index
        from hongniang.members.models import MatePreference, Member
        from hongniang.members.signals import members_bulk_changed
        from hongniang.siteconfig.models import SiteSettings

        def member_saved(sender, instance, **kwargs):
            index.member_changed(instance.pk)

        def preference_saved(sender, instance, **kwargs):
            index.member_changed(instance.member_id)

        def member_deleted(sender, instance, **kwargs):
            index.member_changed(instance.pk)

        def members_bulk_saved(sender, member_ids, **kwargs):
            index.members_changed(member_ids)

        def settings_saved(sender, instance, created, **kwargs):
            if not created:  # the hard rules may have changed
                transaction.on_commit(index.reset)

        post_save.connect(member_saved, sender=Member, dispatch_uid="matching_member_saved")
        post_save.connect(
            preference_saved, sender=MatePreference, dispatch_uid="matching_pref_saved"
        )
        members_bulk_changed.connect(
            members_bulk_saved, sender=Member, dispatch_uid="matching_members_bulk_saved"
        )
        post_delete.connect(member_deleted, sender=Member, dispatch_uid="matching_member_deleted")
        post_save.connect(
            settings_saved, sender=SiteSettings, dispatch_uid="matching_settings_saved"
        )
