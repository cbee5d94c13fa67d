from django.urls import path

from accounts import otp_views

app_name = "twofactor"
urlpatterns = [
    path("", otp_views.setup, name="setup"),
    path("verify/", otp_views.verify, name="verify"),
    path("backup-codes/", otp_views.backup_codes, name="backup_codes"),
]
