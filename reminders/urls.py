from django.urls import path

from reminders import views

app_name = "reminders"
urlpatterns = [
    path("", views.my_deadlines, name="my_deadlines"),
    path("export.csv", views.my_deadlines_export, name="my_deadlines_export"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/export.csv", views.notification_export, name="notifications_export"),
    path("notifications/read-all/", views.notification_read_all, name="notifications_read_all"),
    path("notifications/<uuid:public_id>/read/", views.notification_read, name="notification_read"),
    path("settings/", views.preferences, name="preferences"),
    path("calendar/new/", views.calendar_token_create, name="calendar_token_create"),
    path("calendar/revoke/", views.calendar_token_revoke, name="calendar_token_revoke"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
