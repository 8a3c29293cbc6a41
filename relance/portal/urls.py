from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("webhooks/<slug:provider>/", views.webhook, name="webhook"),
    path("test-provider/", views.test_provider, name="test_provider"),
    path("<str:token>/", views.home, name="home"),
    path("<str:token>/pay/", views.pay, name="pay"),
    path("<str:token>/pay/<int:selection>/", views.pay_selection, name="pay_selection"),
    path("<str:token>/pay/<int:selection>/online/", views.pay_online, name="pay_online"),
    path("<str:token>/pay/<int:selection>/done/", views.pay_done, name="pay_done"),
    path("<str:token>/promise/", views.promise, name="promise"),
    path("<str:token>/dispute/", views.dispute, name="dispute"),
    path("<str:token>/contact/", views.contact, name="contact"),
    path("<str:token>/documents/<int:pk>/pdf/", views.document_pdf, name="document_pdf"),
    path("<str:token>/statement/pdf/", views.statement_pdf, name="statement_pdf"),
    path("<str:token>/attachments/<int:pk>/", views.attachment, name="attachment"),
]
