from __future__ import annotations

from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView


def _noop(request):  # CsrfViewMiddleware needs a get_response; it is never called
    return None


@method_decorator(csrf_exempt, name="dispatch")
class CatalogGraphQLView(GraphQLView):
    """GraphQL endpoint with GraphiQL and multipart uploads.

    Django's blanket CSRF check would refuse every anonymous POST, so it is
    replaced by a narrower one: requests authenticated by the session cookie
    must carry a CSRF token unless their body is JSON. A cross-site form can
    post multipart or urlencoded bodies with the user's cookie, but not JSON
    (that needs a CORS preflight). Bearer-token requests are exempt; the
    token middleware marks them.
    """

    def dispatch(self, request, *args, **kwargs):
        if (
            request.method == "POST"
            and request.content_type != "application/json"
            and request.user.is_authenticated
        ):
            refusal = CsrfViewMiddleware(_noop).process_view(request, None, (), {})
            if refusal is not None:
                return refusal
        return super().dispatch(request, *args, **kwargs)
