"""Print the browser test's counts at the end of the pytest run."""

import pytest

SUMMARY = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def browser_summary(pytestconfig) -> dict:
    """A dict the tests fill with counts; printed in the terminal summary."""
    return pytestconfig.stash.setdefault(SUMMARY, {})


def pytest_terminal_summary(terminalreporter, config):
    summary = config.stash.get(SUMMARY, None)
    if not summary:
        return
    terminalreporter.section("the built book in headless Chromium, offline")
    for name, value in summary.items():
        terminalreporter.write_line(f"{name}: {value}")
