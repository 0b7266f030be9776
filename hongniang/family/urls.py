from django.urls import path

from . import views

app_name = "family"
urlpatterns = [
    # Public: a relative registers a profile for their child.
    path("family/", views.register, name="register"),
    path("family/thanks/", views.thanks, name="thanks"),
    # The relatives' centre.
    path("family/login/", views.login, name="login"),
    path("family/logout/", views.logout, name="logout"),
    path("family/centre/", views.centre, name="centre"),
    path("family/centre/<int:pk>/invite/", views.resend, name="resend"),
    path("family/centre/<int:pk>/introductions/", views.introductions, name="introductions"),
    # The child: the invitation, and the switch in the member centre.
    path("family/invite/<str:token>/", views.invitation, name="invitation"),
    path("m/family/", views.share, name="share"),
]
