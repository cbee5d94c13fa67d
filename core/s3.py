"""The private storage in an S3-compatible object store (django-storages' S3 backend, with our defaults).

Loaded only when ``S3_BUCKET`` is set (``STORAGES["private"]`` names this class), so a
single-machine install never imports boto3. Credentials are not settings of the portal:
boto3 finds them itself, in ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (and
``AWS_SESSION_TOKEN``) or the role of the machine or container.
"""

from __future__ import annotations

from botocore.config import Config
from storages.backends.s3 import S3Storage


class PrivateS3Storage(S3Storage):
    """S3 for private files: bounded waits, standard retries, and no URLs.

    Downloads are streamed by the permission-checked, audited views after the bytes are checked
    against their SHA-256 (``core.files.open_verified``), so nothing ever needs a presigned URL;
    refusing ``url()`` keeps one from being handed out by mistake (a presigned URL works for
    anyone who holds it until it expires, and the bytes it serves were never checked).
    """

    def __init__(self, **options):
        options.setdefault(
            "client_config",
            Config(
                s3={"addressing_style": options.get("addressing_style")},
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )
        super().__init__(**options)

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NotImplementedError("Private files are served only by the permission-checked download views.")
