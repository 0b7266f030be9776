from django.urls import path

from hongniang.siteconfig import views

app_name = "siteconfig"
urlpatterns = [
    path("", views.settings_edit, name="edit"),
    path("images/", views.image_list, name="images"),
    path("images/new/", views.image_edit, name="image_create"),
    path("images/<int:pk>/", views.image_edit, name="image_edit"),
    path("images/<int:pk>/delete/", views.image_delete, name="image_delete"),
    path("audit/", views.audit_log, name="audit"),
    path("personal-data/", views.personal_data, name="personal_data"),
]
