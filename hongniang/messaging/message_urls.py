from django.urls import path

from hongniang.messaging import message_views as views

app_name = "member_messages"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("sent/", views.sent, name="sent"),
    path("<int:pk>/", views.message_detail, name="detail"),
    path("to/<int:member_pk>/", views.compose, name="compose"),
    path("to/<int:member_pk>/opt-out/", views.opt_out, name="opt_out"),
    path("bulk/", views.bulk, name="bulk"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_create"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
]
