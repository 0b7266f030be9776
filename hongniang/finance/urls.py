from django.urls import path

from hongniang.finance import views

app_name = "finance"

urlpatterns = [
    path("plans/", views.plans, name="plans"),
    path("plans/new/", views.plan_edit, name="plan_new"),
    path("plans/<int:pk>/", views.plan_edit, name="plan_edit"),
    path("contracts/", views.contracts, name="contracts"),
    path("contracts/new/<int:member_pk>/", views.contract_new, name="contract_new"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/pdf/", views.contract_print, name="contract_pdf"),
    path("contracts/<int:pk>/files/", views.attachment_add, name="attachment_add"),
    path(
        "contracts/<int:pk>/files/<int:attachment_pk>/",
        views.attachment_file,
        name="attachment_file",
    ),
    path("contracts/<int:pk>/submit/", views.contract_submit, name="contract_submit"),
    path("contracts/<int:pk>/approve/", views.contract_approve, name="contract_approve"),
    path("contracts/<int:pk>/reject/", views.contract_reject, name="contract_reject"),
    path("contracts/<int:pk>/payment/", views.payment_add, name="payment_add"),
    path("contracts/<int:pk>/refund/", views.refund_request, name="refund_request"),
    path("payments/", views.payments, name="payments"),
    path("report/", views.report, name="report"),
    path("report/export/", views.report_export, name="report_export"),
    path("report/outcomes/", views.report_outcomes, name="report_outcomes"),
    path("refunds/", views.refunds, name="refunds"),
    path("refunds/<int:pk>/", views.refund_detail, name="refund"),
    path("complaints/", views.complaints, name="complaints"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint"),
]
