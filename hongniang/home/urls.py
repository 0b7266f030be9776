from django.urls import path

from hongniang.home import views

app_name = "home"
urlpatterns = [path("", views.index, name="index")]
