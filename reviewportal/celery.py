"""The Celery app, configured from Django settings under the CELERY_ namespace (JSON only)."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewportal.settings")

app = Celery("reviewportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_filesystem_broker_folders() -> None:
    """kombu's filesystem transport needs its folders to exist before the first message."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


_ensure_filesystem_broker_folders()

# The request id travels in each task's headers and the tasks are timed (signal hooks, connected on import).
import reviewportal.observability.tasks  # noqa: E402,F401


@beat_init.connect
def _take_beat_lease(sender=None, **kwargs) -> None:
    """Only the beat holding the lease schedules (see reviewportal/beat_lock.py)."""
    from reviewportal.beat_lock import hold_beat_lease

    hold_beat_lease(app.conf.broker_url or "")
