from django.contrib.auth import views as auth_views
from django.urls import path

from hongniang.staff import views

app_name = "staff"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("", views.staff_list, name="list"),
    path("new/", views.staff_create, name="create"),
    path("<int:pk>/", views.staff_detail, name="detail"),
    path("<int:pk>/edit/", views.staff_edit, name="edit"),
    path("<int:pk>/status/", views.staff_set_status, name="set_status"),
    path("<int:pk>/delete/", views.staff_delete, name="delete"),
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/clear/", views.lockout_clear, name="lockout_clear"),
    path("roles/", views.role_list, name="roles"),
    path("roles/new/", views.role_edit, name="role_create"),
    path("roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("stores/", views.store_list, name="stores"),
    path("stores/new/", views.store_edit, name="store_create"),
    path("stores/<int:pk>/", views.store_edit, name="store_edit"),
    path("stores/<int:pk>/delete/", views.store_delete, name="store_delete"),
]
