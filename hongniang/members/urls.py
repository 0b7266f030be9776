from django.urls import path

from hongniang.members import import_views, mapping_views, region_views, views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/journey/<str:step>/", views.journey_step, name="journey_step"),
    path("<int:pk>/reveal/<str:field>/", views.reveal, name="reveal"),
    path("<int:pk>/photos/", views.photo_add, name="photo_add"),
    path("<int:pk>/photos/<int:photo_pk>/file/", views.photo_file, name="photo_file"),
    path("<int:pk>/photos/<int:photo_pk>/review/", views.photo_review, name="photo_review"),
    path("<int:pk>/photos/<int:photo_pk>/avatar/", views.photo_avatar, name="photo_avatar"),
    path("<int:pk>/photos/<int:photo_pk>/delete/", views.photo_delete, name="photo_delete"),
    path("check/mobile/", views.check_mobile, name="check_mobile"),
    path("check/id-number/", views.check_id_number, name="check_id_number"),
    path("presales/", views.presales_lists, name="presales"),
    path("aftersales/", views.aftersales_lists, name="aftersales"),
    path("public-pool/", views.public_pool, name="public_pool"),
    path("public-pool/claim/", views.pool_claim, name="pool_claim"),
    path("<int:pk>/release/", views.member_release, name="release"),
    path("pending/", views.pending, name="pending"),
    path("pending/<int:allocation_pk>/", views.allocation_answer, name="allocation_answer"),
    path("allocate/", views.pools, name="pools"),
    path("reallocate/", views.reallocate, name="reallocate"),
    path("allocate/save/", views.allocate, name="allocate"),
    path("regions/children/", region_views.region_children, name="region_children"),
    path("import/", import_views.import_members, name="import"),
    path("import/<str:token>/mapping/", mapping_views.import_mapping, name="import_mapping"),
    path("import/mappings/", mapping_views.saved_mappings, name="saved_mappings"),
    path(
        "import/mappings/<int:pk>/rename/",
        mapping_views.saved_mapping_rename,
        name="saved_mapping_rename",
    ),
    path(
        "import/mappings/<int:pk>/delete/",
        mapping_views.saved_mapping_delete,
        name="saved_mapping_delete",
    ),
    path("import/<str:token>/preview/", import_views.import_preview, name="import_preview"),
    path("import/confirm/", import_views.import_confirm, name="import_confirm"),
    path("import/jobs/<uuid:pk>/", import_views.import_job, name="import_job"),
    path("import/template/", import_views.import_template, name="import_template"),
    path("export/", import_views.export_members, name="export"),
]
