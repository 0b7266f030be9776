from django.urls import path

from . import account_views, views

app_name = "portal"
urlpatterns = [
    # The member centre.
    path("m/", views.home, name="home"),
    path("m/login/", views.login, name="login"),
    path("m/logout/", views.logout, name="logout"),
    path("m/password/", views.password, name="password"),
    path("m/photo/", views.my_avatar, name="photo"),
    path("m/as-member/end/", views.impersonation_end, name="impersonation_end"),
    # The workbench's action on a member's page.
    path("members/<int:pk>/login-as/", views.impersonate, name="impersonate"),
    # Members' accounts, opened and looked after by staff.
    path("members/<int:pk>/account/open/", account_views.account_open, name="account_open"),
    path("members/<int:pk>/account/reset/", account_views.account_reset, name="account_reset"),
    path("members/<int:pk>/account/active/", account_views.account_active, name="account_active"),
    path("members/accounts/open/", account_views.accounts_bulk, name="accounts_bulk"),
]
