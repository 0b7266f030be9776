from django.urls import path

from hongniang.home import views

app_name = "home"
urlpatterns = [
    # The domain root is the public site (portal/site_views.py); staff land here.
    path("workbench/", views.index, name="index"),
    path("activity/members/<int:pk>/", views.member_activity, name="member_activity"),
    path("ledger/members/<int:pk>/", views.member_ledger, name="member_ledger"),
]
