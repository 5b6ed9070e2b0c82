"""The service worker in the browser: it precaches exactly the URLs the server lists (taking what
the page just loaded from the HTTP cache), a changed precached page replaces its offline copy,
and after sign-out it deletes the per-user caches and answers, so the page knows the device is clear."""
from __future__ import annotations

import json
import re
import shutil
import threading
import time

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

CACHED_URLS = """async () => { const found = {};
    for (const name of await caches.keys()) {
      found[name] = (await (await caches.open(name)).keys()).map(r => new URL(r.url).pathname + new URL(r.url).search);
    }
    return found; }"""


def _served_config(page) -> dict:
    body = page.request.get("/service-worker.js").text()
    return json.loads(re.search(r"^const CONFIG = (.*);$", body, flags=re.MULTILINE).group(1))


def test_the_worker_precaches_what_the_server_lists(page):
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    config = _served_config(page)
    cached = page.evaluate(CACHED_URLS)
    assert sorted(cached[f"rph-static-{config['version']}"]) == sorted(config["static"])
    assert sorted(cached[f"rph-pages-{config['version']}"]) == sorted(config["pages"])


def test_the_worker_answers_sign_out_after_deleting_personal_caches(page):
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.evaluate("""async () => { const cache = await caches.open('rph-user-safety-plan');
        await cache.put('/me/safety-plan', new Response('personal')); }""")
    page.goto("/signed-out")
    expect(page.locator("[data-signed-out]")).to_have_attribute("data-offline-cleared", "yes")
    names = page.evaluate("caches.keys()")
    assert not [name for name in names if name.startswith("rph-user-")]
    assert [name for name in names if name.startswith("rph-static-")]  # the public files stay

    # The worker's own answer, as any page gets it.
    answer = page.evaluate("""() => new Promise(resolve => {
        const channel = new MessageChannel();
        channel.port1.onmessage = event => resolve(event.data);
        navigator.serviceWorker.controller.postMessage({type: 'signed-out'}, [channel.port2]); })""")
    assert answer == {"type": "signed-out", "cleared": True}


def test_without_a_worker_the_signed_out_page_does_not_wait(browser, live_server):
    from tests.browser.conftest import PHONE

    context = browser.new_context(base_url=live_server, locale="nb-NO", service_workers="block", **PHONE)
    try:
        page = context.new_page()
        page.goto("/about")
        page.evaluate("() => localStorage.setItem('rph-draft:abc', '{}')")
        page.goto("/signed-out")
        # "no-worker" at once, not "timeout" after the page's time limit.
        expect(page.locator("[data-signed-out]")).to_have_attribute("data-offline-cleared", "no-worker")
        assert page.evaluate("localStorage.getItem('rph-draft:abc')") is None
    finally:
        context.close()


@pytest.fixture
def own_site(app, app_settings, browser, tmp_path):
    """A second server whose templates we may change (read again on each request), recording
    every request it answers: (path, status). Yields (base URL, templates folder, requests)."""
    from rph_pwa import create_app
    from rph_pwa.config import TestConfig
    from tests.browser.conftest import PHONE
    from tests.conftest import free_port

    fresh = create_app(TestConfig, **app_settings)
    templates = tmp_path / "templates"
    shutil.copytree(fresh.template_folder, templates)
    fresh.template_folder = str(templates)
    fresh.__dict__.pop("jinja_loader", None)  # Flask caches the loader of the old folder
    fresh.jinja_env.auto_reload = True
    answered: list[tuple[str, int]] = []
    inner = fresh.wsgi_app

    def recording(environ, start_response):
        def start(status, headers, exc_info=None):
            answered.append((environ["PATH_INFO"], int(status.split()[0])))
            return start_response(status, headers, exc_info)
        return inner(environ, start)

    fresh.wsgi_app = recording
    port = free_port()
    server = make_server("localhost", port, fresh, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(base_url=f"http://localhost:{port}", locale="nb-NO", **PHONE)
    context.set_default_timeout(15_000)
    try:
        yield context, templates, answered
    finally:
        context.close()
        server.shutdown()
        fresh.extensions["rph_db"].engine.dispose()


def test_the_install_takes_what_the_page_loaded_from_the_http_cache(own_site):
    context, _templates, answered = own_site
    page = context.new_page()
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    config = _served_config(page)
    loaded = [path for path, _status in answered if path.startswith("/static/")]
    for kind in ("/static/css/app.", "/static/js/app."):
        asked = [path for path in loaded if path.startswith(kind)]
        # Once, by the page: the worker's install found it fresh in the HTTP cache (no 304 either).
        assert len(asked) == 1 and asked[0] in config["static"], loaded
    assert not [path for path in loaded if "512" in path or "apple-touch" in path]


def test_a_changed_crisis_page_replaces_the_offline_copy(own_site):
    context, templates, _answered = own_site
    page = context.new_page()
    page.goto("/hjelp")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    first = _served_config(page)["version"]

    crisis = templates / "public" / "crisis.html"
    head, end, tail = crisis.read_text(encoding="utf-8").rpartition("{% endblock %}")  # the content block's end
    crisis.write_text(f'{head}<p id="changed">Nytt nummer</p>{end}{tail}', encoding="utf-8")
    second = _served_config(page)["version"]
    assert second != first
    page.goto("/")  # a visit checks the worker; the new one installs and takes over
    page.evaluate("async () => { const r = await navigator.serviceWorker.getRegistration(); await r.update(); }")
    # The new worker has activated once the old version's caches are gone.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and f"rph-pages-{first}" in page.evaluate("caches.keys()"):
        time.sleep(0.1)
    assert f"rph-pages-{second}" in page.evaluate("caches.keys()")
    assert f"rph-pages-{first}" not in page.evaluate("caches.keys()")

    context.set_offline(True)
    page.goto("/hjelp")
    expect(page.locator("#changed")).to_have_text("Nytt nummer")
