"""The benchmark server's URLs: the portal's, plus a bare view measured beside every page."""

from django.http import HttpResponse
from django.urls import path

from reviewportal.urls import handler400, handler404, handler500
from reviewportal.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]


def hello(request):
    """The least a Django view can do, behind the portal's full middleware stack."""
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("bench/hello/", hello, name="bench-hello"), *portal_urlpatterns]
