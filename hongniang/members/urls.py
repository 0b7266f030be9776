from django.urls import path

from hongniang.members import region_views, views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/reveal/<str:field>/", views.reveal, name="reveal"),
    path("check/mobile/", views.check_mobile, name="check_mobile"),
    path("allocate/", views.pools, name="pools"),
    path("reallocate/", views.reallocate, name="reallocate"),
    path("allocate/save/", views.allocate, name="allocate"),
    path("regions/children/", region_views.region_children, name="region_children"),
]
