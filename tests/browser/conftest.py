"""A live kipp server on the demo data, and Chromium driven by Playwright."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import build_app, migrate_and_load
from tests.services import CHROMIUM, need

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def demo_app(instance: Path) -> Any:
    """An app on a fresh SQLite database in ``instance``, migrated, with the demo data."""
    app = build_app(f"sqlite:///{instance / 'browser.sqlite3'}", instance, WTF_CSRF_ENABLED=True,
                    env={"KIPP_BASE_URL": "http://127.0.0.1:0"})
    migrate_and_load(app)
    from kipp import demo
    from kipp.extensions import db

    with app.app_context():
        demo.seed()
        db.session.commit()
    return app


def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free local port in a thread; yields its base URL (emails link to it too)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["KIPP_BASE_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo app the live server serves (for its command line, as the operator has it)."""
    need("browser")
    return demo_app(tmp_path_factory.mktemp("browser-instance"))


@pytest.fixture(scope="session")
def live_server(live_app: Any) -> Iterator[str]:
    yield from serve(live_app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need("browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


def open_tab(browser: Any, base_url: str, request: pytest.FixtureRequest, *, timeout_ms: int = 10_000) -> Iterator[Any]:
    """A tab in a fresh context (Bahasa Indonesia); a failed test leaves its screenshot in test-artifacts/."""
    context = browser.new_context(base_url=base_url, locale="id-ID", accept_downloads=True)
    context.set_default_timeout(timeout_ms)
    tab = context.new_page()
    yield tab
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture()
def page(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_tab(browser, live_server, request)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
