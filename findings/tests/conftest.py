import pytest

from findings.tests.inspect_logs import generated_logs


@pytest.fixture(scope="session")
def inspect_log_files():
    """Real Inspect logs (and broken ones) made once per session in a temporary folder (removed at exit)."""
    return generated_logs()
