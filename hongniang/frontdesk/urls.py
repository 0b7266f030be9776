from django.urls import path

from . import public_views, views

app_name = "frontdesk"
urlpatterns = [
    # Public pages (no login).
    path("consult/", public_views.consult, name="consult"),
    path("consult/thanks/", public_views.consult_thanks, name="consult_thanks"),
    path("join/", public_views.join, name="join"),
    path("join/r/<str:code>/", public_views.join_with_code, name="join_with_code"),
    path("join/thanks/", public_views.join_thanks, name="join_thanks"),
    path("join/check/username/", public_views.check_username, name="check_username"),
    path("join/check/mobile/", public_views.check_mobile, name="check_mobile"),
    path("join/check/id-number/", public_views.check_id_number, name="check_id_number"),
    path("join/regions/", public_views.region_children, name="region_children"),
    # Staff pages.
    path("frontdesk/consultations/", views.consultation_list, name="consultations"),
    path("frontdesk/consultations/<int:pk>/", views.consultation_detail, name="consultation"),
    path(
        "frontdesk/consultations/<int:pk>/assign/",
        views.consultation_assign,
        name="consultation_assign",
    ),
    path(
        "frontdesk/consultations/<int:pk>/convert/",
        views.consultation_convert,
        name="consultation_convert",
    ),
    path("frontdesk/my-link/", views.my_link, name="my_link"),
    path("frontdesk/link/<int:staff_pk>/", views.my_link, name="staff_link"),
    path("frontdesk/qr/<str:code>.svg", views.qr_svg, name="qr"),
    path("frontdesk/poster/", views.poster, name="poster"),
    path("frontdesk/poster/<int:staff_pk>/", views.poster, name="staff_poster"),
    path("frontdesk/referrals/", views.referrals, name="referrals"),
    path("frontdesk/settings/", views.settings_edit, name="settings"),
]
