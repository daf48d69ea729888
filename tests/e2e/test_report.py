"""`sync-monitor:report` on real runs, rendered by headless Chromium (Debian's package, `make chromium`):
no console error, nothing fetched, and the counts of the run history and of the participants in error."""

import re
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.e2e]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")
UNKNOWN_STATUS = '{"registered": "No Such Member Status"}'


def render_in_chromium(page, tmp_path):
    """The page's DOM after load, and Chromium's console lines (any is an error: the page has no script)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: `make chromium` (part of `make test`) installs it")
    result = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
                             "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_sees_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>missing()</script></body></html>")
    assert render_in_chromium(page, tmp_path)[1]


def test_the_report_shows_the_run_history_failures_and_whom_to_resend(project, seeded, tmp_path):
    synced = project.monitor("sync")
    project.monitor("sync", env={"TARGET_SALESFORCE_CAMPAIGN_STATUS_MAPPING": UNKNOWN_STATUS}, ok=False)
    in_error = project.monitor_json("participants", "--status", "error")
    page = tmp_path / "report.html"

    written = project.monitor("report", "--output", str(page))
    assert written.strip() == f"wrote {page} (2 runs, 1 failed, {len(in_error)} participants in error)"
    dom, console = render_in_chromium(page, tmp_path)
    assert console == []
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", dom)
    cards = dict(re.findall(r'<div class="card" id="count-(\w+)"><b>(\d+)</b>', dom))
    outcomes = project.outcomes(synced)
    assert cards == {"runs": "2", "failed_runs": "1", "created": str(outcomes["created"]),
                     "updated": str(outcomes["updated"]), "failed": str(outcomes["failed"]),
                     "in_error": str(len(in_error))}
    assert dom.count('class="run-row') == 2 and "No Such Member Status" in dom  # the failed run's own error
    assert dom.count('class="participant-row"') == len(in_error) >= 3
    for row in in_error:
        assert f"meltano invoke sync-monitor:resend --uid {row['uid']}" in dom and row["error_code"] in dom
    assert re.search(r"\d+ of \d+ daily API requests used", dom)
