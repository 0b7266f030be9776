from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.views.decorators.cache import cache_page

from . import account_views, centre_views, site_views, story_views, views
from .sitemaps import SITEMAPS

app_name = "portal"
urlpatterns = [
    # The member centre.
    path("m/", views.home, name="home"),
    path("m/login/", views.login, name="login"),
    path("m/logout/", views.logout, name="logout"),
    path("m/password/", views.password, name="password"),
    path("m/photo/", views.my_avatar, name="photo"),
    path("m/as-member/end/", views.impersonation_end, name="impersonation_end"),
    # The member centre (issue 13): answers, requests, appointments, messages, service, profile.
    path("m/recommendations/", centre_views.recommendations, name="recommendations"),
    # Rows and other members by opaque reference, never by primary key (centre_selectors.ref).
    path("m/recommendations/<str:kind>/<str:ref>/", centre_views.card, name="card"),
    path("m/recommendations/<str:kind>/<str:ref>/answer/", centre_views.answer, name="answer"),
    path("m/meet/<str:ref>/", centre_views.introduce, name="introduce"),
    # Double opt-in: the masked card, the reveal once both said yes; other members' photos.
    path("m/pairs/<str:ref>/", centre_views.pair, name="pair"),
    path("m/pairs/<str:ref>/answer/", centre_views.pair_answer, name="pair_answer"),
    path("m/pairs/<str:ref>/withdraw/", centre_views.pair_withdraw, name="pair_withdraw"),
    path("m/peer/<str:ref>/photo/<str:photo>/", centre_views.peer_photo, name="peer_photo"),
    path("m/meet/site/<str:code>/", centre_views.introduce_public, name="introduce_public"),
    path("m/introductions/", centre_views.introductions, name="introductions"),
    path("m/appointments/", centre_views.appointments, name="appointments"),
    path(
        "m/appointments/<str:ref>/feedback/",
        centre_views.appointment_feedback,
        name="appointment_feedback",
    ),
    path("m/messages/", centre_views.inbox, name="messages"),
    path("m/service/", centre_views.service, name="service"),
    path("m/profile/", centre_views.profile_change, name="profile_change"),
    path("m/photos/", centre_views.photos, name="photos"),
    path("m/profile/site/", centre_views.site_visibility, name="site_visibility"),
    path("m/password/forgot/", centre_views.reset_request, name="reset_request"),
    path("m/password/forgot/code/", centre_views.reset_code, name="reset_code"),
    # The workbench's action on a member's page.
    path("members/<int:pk>/login-as/", views.impersonate, name="impersonate"),
    # Members' accounts, opened and looked after by staff.
    path("members/<int:pk>/account/open/", account_views.account_open, name="account_open"),
    path("members/<int:pk>/account/reset/", account_views.account_reset, name="account_reset"),
    path("members/<int:pk>/account/active/", account_views.account_active, name="account_active"),
    path("members/accounts/open/", account_views.accounts_bulk, name="accounts_bulk"),
    # The public site (site_views.py): the domain root, no login.
    path("", site_views.home, name="site_home"),
    path("search/", site_views.search, name="site_search"),
    path("profile/<str:code>/", site_views.member, name="site_member"),
    path(
        "profile/<str:code>/photo/<str:photo_code>/",
        site_views.member_photo,
        name="site_member_photo",
    ),
    path("stories/", site_views.stories, name="site_stories"),
    path("stories/<int:pk>/", site_views.story, name="site_story"),
    path("stories/<int:pk>/photo/<int:photo_pk>/", site_views.story_photo, name="site_story_photo"),
    path("robots.txt", site_views.robots_txt, name="robots_txt"),
    path(
        "sitemap.xml",
        # Crawlers fetch these rarely and in bulk: built at most once an hour (a hidden member's
        # page answers 404 meanwhile).
        cache_page(3600)(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "portal:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        cache_page(3600)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
    # The workbench's side: a member's place on the public site, success stories.
    path("members/<int:pk>/public-site/", site_views.member_site_flags, name="site_flags"),
    path("success-stories/", story_views.story_list, name="stories_manage"),
    path("success-stories/new/", story_views.story_create, name="story_create"),
    path("success-stories/<int:pk>/", story_views.story_edit, name="story_edit"),
    path("success-stories/<int:pk>/delete/", story_views.story_delete, name="story_delete"),
    path(
        "success-stories/<int:pk>/photo/<int:photo_pk>/",
        story_views.story_photo,
        name="story_photo_staff",
    ),
]
