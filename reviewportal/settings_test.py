"""Settings for the test suite: the development defaults plus a few test-only choices."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")

from reviewportal.settings import *  # noqa: E402,F403

# Fast hashing: the password hasher itself is not under test here (tests check Argon2 is configured).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Uploaded files of a test run go to a throw-away folder.
PRIVATE_UPLOAD_ROOT = Path(tempfile.mkdtemp(prefix="reviewportal-test-uploads-"))  # noqa: F405
# Tasks run in-process unless a test starts a real worker (tests/integration).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
