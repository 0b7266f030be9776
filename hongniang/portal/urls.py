from django.urls import path

from . import views

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
]
