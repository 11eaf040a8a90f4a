from django.contrib import admin

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("key_prefix", "user", "name", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "name", "key_prefix")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    # Tokens are created with `manage.py create_api_token`, which shows the
    # secret once; the admin can only inspect and revoke them.

    def has_add_permission(self, request):
        return False
