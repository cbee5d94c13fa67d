"""Changes made in the admin reach the audit trail, with before and after; deletions too."""

from __future__ import annotations

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from audit.services import SECRET_MASK, diff_fields, mask_secrets


def test_an_admin_edit_records_who_and_the_changed_fields(client_for, admin_user, company_a):
    url = reverse("admin:accounts_organisation_change", args=[company_a.pk])
    response = client_for(admin_user).post(
        url,
        {
            "name": "Company A Holdings",
            "kind": company_a.kind,
            "email_domains": '["a.test"]',
            # The read-only engagement history below the form still posts its (empty) management form.
            "engagement_changes-TOTAL_FORMS": "0",
            "engagement_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHANGE, object_type="accounts.organisation")
    assert event.actor == admin_user
    assert event.changes == {"name": {"from": "Company A", "to": "Company A Holdings"}}


def test_resetting_a_lost_authenticator_in_the_admin_is_recorded(client_for, admin_user, evaluator):
    device = TOTPDevice.objects.create(user=evaluator, name="Authenticator app", confirmed=True)
    url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    response = client_for(admin_user).post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert event.actor == admin_user
    assert "Deleted in the admin" in event.summary


def test_admins_cannot_create_or_edit_someone_elses_authenticator(client_for, admin_user, evaluator):
    device = TOTPDevice.objects.create(user=evaluator, name="Authenticator app", confirmed=True)
    client = client_for(admin_user)
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    response = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert response.status_code == 200 and device.name in response.text  # the device's page itself
    page = response.content.decode()
    assert device.key not in page  # the shared secret never appears


def test_encrypted_and_hashed_fields_are_masked_in_changes():
    changes = diff_fields(
        {"credential_ciphertext": "gAAAAB-old", "secret_hash": "abc", "status": "approved"},
        {"credential_ciphertext": "gAAAAB-new", "secret_hash": "def", "status": "provisioned"},
    )
    masked = mask_secrets(changes)
    assert masked["credential_ciphertext"] == {"from": SECRET_MASK, "to": SECRET_MASK}
    assert masked["secret_hash"] == {"from": SECRET_MASK, "to": SECRET_MASK}
    assert masked["status"] == {"from": "approved", "to": "provisioned"}
