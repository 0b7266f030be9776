from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("hongniang.workbench.urls")),
    path("staff/", include("hongniang.staff.urls")),
    path("settings/", include("hongniang.siteconfig.urls")),
    path("members/", include("hongniang.members.urls")),
    path("notices/", include("hongniang.messaging.urls")),
    path("matching/", include("hongniang.matching.urls")),
    path("jobs/", include("hongniang.jobs.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
