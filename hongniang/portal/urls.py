from django.urls import path

from . import account_views, centre_views, views

app_name = "portal"
urlpatterns = [
    # The member centre.
    path("m/", views.home, name="home"),
    path("m/login/", views.login, name="login"),
    path("m/logout/", views.logout, name="logout"),
    path("m/password/", views.password, name="password"),
    path("m/photo/", views.my_avatar, name="photo"),
    path("m/as-member/end/", views.impersonation_end, name="impersonation_end"),
    # The member centre (issue 13): answers, requests, appointments, messages, service, profile.
    path("m/recommendations/", centre_views.recommendations, name="recommendations"),
    path("m/recommendations/<str:kind>/<int:pk>/", centre_views.card, name="card"),
    path("m/recommendations/<str:kind>/<int:pk>/answer/", centre_views.answer, name="answer"),
    path("m/meet/<int:pk>/", centre_views.introduce, name="introduce"),
    path("m/introductions/", centre_views.introductions, name="introductions"),
    path("m/appointments/", centre_views.appointments, name="appointments"),
    path(
        "m/appointments/<int:pk>/feedback/",
        centre_views.appointment_feedback,
        name="appointment_feedback",
    ),
    path("m/messages/", centre_views.inbox, name="messages"),
    path("m/service/", centre_views.service, name="service"),
    path("m/profile/", centre_views.profile_change, name="profile_change"),
    path("m/photos/", centre_views.photos, name="photos"),
    path("m/profile/site/", centre_views.site_visibility, name="site_visibility"),
    path("m/password/forgot/", centre_views.reset_request, name="reset_request"),
    path("m/password/forgot/code/", centre_views.reset_code, name="reset_code"),
    # The workbench's action on a member's page.
    path("members/<int:pk>/login-as/", views.impersonate, name="impersonate"),
    # Members' accounts, opened and looked after by staff.
    path("members/<int:pk>/account/open/", account_views.account_open, name="account_open"),
    path("members/<int:pk>/account/reset/", account_views.account_reset, name="account_reset"),
    path("members/<int:pk>/account/active/", account_views.account_active, name="account_active"),
    path("members/accounts/open/", account_views.accounts_bulk, name="accounts_bulk"),
]
