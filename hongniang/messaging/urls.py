from django.urls import path

from hongniang.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("<int:pk>/", views.notice_open, name="open"),
    path("read-all/", views.notice_read_all, name="read_all"),
]
