"""The service worker in the browser: it precaches exactly the URLs the server lists, and after
sign-out it deletes the per-user caches and answers, so the page knows the device is clear."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

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
