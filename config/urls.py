from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.schema import schema
from config.views import CatalogGraphQLView

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "graphql/",
        CatalogGraphQLView.as_view(
            schema=schema, graphql_ide="graphiql", multipart_uploads_enabled=True
        ),
        name="graphql",
    ),
    path(settings.MEDIA_URL.lstrip("/"), include("media_store.urls")),
]

handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
