"""Settings of the page benchmark's server (``bench/pages.py``): the portal's own, with two changes.

* The URLconf is ``bench.server_urls``: the portal's URLs plus a bare "hello" view, the
  benchmark's yardstick. The product's URLs are untouched.
* Static files are collected into their own folder (``BENCH_STATIC_ROOT``, default
  ``var/bench-static``), so the benchmark never touches a deployment's.

Everything else (DEBUG off, the middleware, sessions, the second factor) comes from the
environment exactly as in production; ``bench/pages.py`` sets it.
"""

import os
from pathlib import Path

from reviewportal.settings import *  # noqa: F403
from reviewportal.settings import VAR_DIR

ROOT_URLCONF = "bench.server_urls"
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", str(VAR_DIR / "bench-static")))
