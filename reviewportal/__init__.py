"""Review Portal project package. The Celery app loads with Django so tasks can be enqueued."""

from reviewportal.celery import app as celery_app

__all__ = ["celery_app"]
