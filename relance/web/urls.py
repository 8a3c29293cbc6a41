"""Staff pages, namespace ``web``."""

from django.urls import path

from .views import auth, cashapp, collections, customers, dashboard, documents, home, portal, transfer

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer_detail"),
    path("documents/", documents.document_list, name="document_list"),
    path("documents/<int:pk>/", documents.document_detail, name="document_detail"),
    path("documents/<int:pk>/file/", documents.document_file, name="document_file"),
    path("exports/<str:kind>.<str:fmt>", transfer.export, name="export"),
    path("imports/", transfer.import_file, name="import"),
    path("cash/", cashapp.cash_queue, name="cash_queue"),
    path("cash/<int:pk>/", cashapp.cash_line, name="cash_line"),
    path("customers/<int:pk>/portal/link/", portal.portal_link_create, name="portal_link_create"),
    path("customers/<int:pk>/portal/revoke/", portal.portal_link_revoke, name="portal_link_revoke"),
    path("portal/attachments/<int:pk>/", portal.portal_attachment, name="portal_attachment"),
    path("dashboard/exports/<str:kind>.<str:fmt>", dashboard.dashboard_export, name="dashboard_export"),
    path("customers/<int:pk>/statement.<str:fmt>", dashboard.customer_statement, name="customer_statement"),
    path("collections/", collections.worklist, name="collections_worklist"),
    path("collections/customers/<int:pk>/call/", collections.call_form, name="collections_call"),
    path("collections/customers/<int:pk>/interest/", collections.interest_statement, name="collections_interest"),
    path("collections/tasks/<int:pk>/done/", collections.task_done, name="collections_task_done"),
    path("collections/disputes/", collections.dispute_list, name="collections_disputes"),
    path("collections/disputes/<int:pk>/resolve/", collections.dispute_resolve, name="collections_dispute_resolve"),
    path("collections/promises/", collections.promise_list, name="collections_promises"),
    path("collections/promises/<int:pk>/cancel/", collections.promise_cancel, name="collections_promise_cancel"),
    path("collections/actions/", collections.action_list, name="collections_actions"),
    path("collections/actions/<int:pk>/file/", collections.action_file, name="collections_action_file"),
    path("collections/replies/", collections.reply_list, name="collections_replies"),
    path("collections/replies/<int:pk>/", collections.reply_update, name="collections_reply_update"),
    path("collections/scenarios/", collections.scenarios, name="collections_scenarios"),
]

# Customer risk and alerts (issue 5)
from .views import risk as risk_views  # noqa: E402

urlpatterns += [
    path("alerts/", risk_views.alert_inbox, name="alert_inbox"),
    path("alerts/<int:pk>/", risk_views.alert_detail, name="alert_detail"),
    path("risk/blocked/", risk_views.blocked_list, name="risk_blocked"),
    path("risk/claims/", risk_views.claims, name="risk_claims"),
    path("risk/claims/<int:pk>/declare/", risk_views.claim_declare, name="risk_claim_declare"),
    path("risk/claims/<int:pk>/statement.pdf", risk_views.claim_statement_pdf, name="risk_claim_pdf"),
    path("customers/<int:pk>/risk/limit/", risk_views.limit_grant, name="risk_limit_grant"),
    path("customers/<int:pk>/risk/block/", risk_views.block, name="risk_block"),
    path("customers/<int:pk>/risk/diagnosis.pdf", risk_views.diagnosis_pdf, name="risk_diagnosis_pdf"),
    path("risk/limits/<int:pk>/decide/", risk_views.limit_decide, name="risk_limit_decide"),
]
