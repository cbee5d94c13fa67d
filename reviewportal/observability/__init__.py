"""What operators watch: readiness checks, structured logs with a request id, Prometheus metrics.

* ``health``: the readiness checks behind ``/readyz`` (database, broker, storage, migrations).
* ``logging``: the log filter that adds the request id, and the JSON formatter (LOG_FORMAT=json).
* ``metrics``: the metrics and the access-controlled ``/metrics`` view (prometheus_client).
* ``tasks``: Celery signal hooks that carry the request id into tasks and time them.

The request id itself lives in ``core/request_id.py`` so that every layer (audit included) can read it.
"""
