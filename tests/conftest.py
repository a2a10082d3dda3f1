"""Test-suite settings: hypothesis runs derandomized (a fixed seed) with a bounded example count,
so CI is deterministic and its time is bounded."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "adcheck-ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("adcheck-ci")

# pytester drives the plugin tests; pytest only honours pytest_plugins in the top conftest.
pytest_plugins = ["pytester"]
