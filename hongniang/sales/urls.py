from django.urls import path

from hongniang.sales import views

app_name = "sales"
urlpatterns = [
    path("members/<int:pk>/follow-ups/", views.follow_ups, name="follow_ups"),
    path("members/<int:pk>/follow-ups/new/", views.follow_up_add, name="follow_up_add"),
]
