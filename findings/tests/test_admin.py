import pytest
from django.urls import reverse

from audit.models import AuditEvent
from findings import services
from findings.models import FindingStatus
from findings.tests.factories import FindingFactory

pytestmark = pytest.mark.django_db


def test_admin_change_page_shows_history_and_edits_go_through_the_service(case, evaluator, admin_user, client_for):
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    services.finding_update(actor=evaluator, finding=finding, data={"severity": "critical"})
    client = client_for(admin_user)
    url = reverse("admin:findings_finding_change", args=[finding.pk])
    page = client.get(url).content.decode()
    assert "Changed severity" in page  # the read-only audit history
    assert 'name="status"' not in page  # status changes only through transitions
    changelist = client.get(reverse("admin:findings_finding_changelist") + "?severity__exact=critical")
    assert finding.reference in changelist.content.decode()


def test_admin_withdraw_action_uses_the_service(case, evaluator, admin_user, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    client_for(admin_user).post(
        reverse("admin:findings_finding_changelist"), {"action": "withdraw_selected", "_selected_action": [finding.pk]}
    )
    finding.refresh_from_db()
    assert finding.status == FindingStatus.WITHDRAWN
    assert AuditEvent.objects.filter(object_id=finding.reference, action="transition").exists()
