from django.urls import path

from hongniang.matching import views

app_name = "matching"
urlpatterns = [
    path("", views.library_index, name="library_index"),
    path("member/<int:pk>/", views.library, name="library"),
    path("engine/status/", views.engine_status, name="engine_status"),
    path("engine/weights/", views.learned_model, name="learned_model"),
    path("member/<int:pk>/recommend/<int:candidate_pk>/", views.recommend, name="recommend"),
    path("member/<int:pk>/boost/<int:candidate_pk>/", views.boost, name="boost"),
    path("recommendations/<int:rec_pk>/answer/", views.answer, name="answer"),
    path("appointments/", views.appointments, name="appointments"),
    path("appointments/new/", views.appointment_create, name="appointment_create"),
    path("appointments/<int:pk>/", views.appointment_edit, name="appointment_edit"),
    path("members/search/", views.member_search, name="member_search"),
    path("introductions/", views.introductions, name="introductions"),
    path("introductions/new/", views.introduction_create, name="introduction_create"),
    path("introductions/<int:pk>/close/", views.introduction_close, name="introduction_close"),
    path("optins/<int:pk>/end/", views.optin_end, name="optin_end"),
]
