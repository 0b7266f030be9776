from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("hongniang.home.urls")),
    path("staff/", include("hongniang.staff.urls")),
    path("settings/", include("hongniang.siteconfig.urls")),
    path("members/", include("hongniang.members.urls")),
    path("sales/", include("hongniang.sales.urls")),
    path("notices/", include("hongniang.messaging.urls")),
    path("messages/", include("hongniang.messaging.message_urls")),
    path("matching/", include("hongniang.matching.urls")),
    path("jobs/", include("hongniang.jobs.urls")),
    path("finance/", include("hongniang.finance.urls")),
    path("", include("hongniang.frontdesk.urls")),
    path("", include("hongniang.portal.urls")),
    path("", include("hongniang.family.urls")),
]
handler400 = "hongniang.workbench.views.bad_request"
handler403 = "hongniang.workbench.views.permission_denied"
handler404 = "hongniang.workbench.views.page_not_found"
handler500 = "hongniang.workbench.views.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
