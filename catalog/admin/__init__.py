"""The catalog admin: products with their images in order, images with their previews.

Every image added here, on its own page or in a product's inline, goes through
``catalog.uploads``, like the API's: same checks, messages and codes, small
variant, placeholder, checksum and storage.
"""

from django.contrib import admin
from django.urls import reverse_lazy

from catalog.admin import images, products  # noqa: F401  (registers the ModelAdmins)

# The site is an API: "View site" opens GraphiQL.
admin.site.site_url = reverse_lazy("graphql")
