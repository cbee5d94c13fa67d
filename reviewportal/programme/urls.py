from django.urls import path

from reviewportal.programme import views

app_name = "programme"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("companies/<uuid:public_id>/engagement/", views.engagement, name="engagement"),
]
