from django.contrib import admin
from django.urls import include, path

from relance.api.urls import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("p/", include("relance.portal.urls")),
    path("", include("relance.web.urls")),
]
