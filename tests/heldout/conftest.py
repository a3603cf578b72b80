"""The `measurement` marker: tests that measure the analyzers on the held-out world (opt-in, minutes)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "measurement: measures analyzers on the held-out world; never tunes them "
                                       "(runs with SIMWORLD_MEASURE=1)")
