"""The resident's tab bar on a phone, with five entries and with six (on a course): every label fits,
no label runs into another or off the screen, and a long word breaks only where its translation
has a soft hyphen ("Sikkerhets-plan"), never in the middle of a syllable; in all three languages,
at 390 px and at WCAG's 320 px reflow width."""
from __future__ import annotations

import pytest
from flask import current_app

from rph_pwa.models import User
from rph_pwa.services.accounts import set_email
from tests.browser.conftest import PHONE, sign_in_by_code
from tests.factories import email, enrol_participant, make_course_run, make_resident, make_team

#: The places where a label's text goes on to a new line without a space or a soft hyphen before it.
BAD_BREAKS = """(link) => {
  const text = link.firstChild, s = text.textContent, range = document.createRange(), bad = [];
  let top = null;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ' ' || s[i] === '\\u00ad') continue;
    range.setStart(text, i); range.setEnd(text, i + 1);
    const rects = range.getClientRects();  // after a soft-hyphen break, the hyphen's box comes first
    const rect = rects[rects.length - 1];
    if (!rect) continue;
    if (top !== null && rect.top > top + 1 && s[i - 1] !== ' ' && s[i - 1] !== '\\u00ad') {
      bad.push(s.slice(0, i) + '|' + s.slice(i));
    }
    top = rect.top;
  }
  return bad;
}"""


@pytest.mark.parametrize("on_a_course", [True, False])
@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_tab_bar_labels_fit_a_phone_and_break_only_at_soft_hyphens(db, page, mailbox, lang, on_a_course):
    team = make_team(db)
    if on_a_course:
        run, _leaders = make_course_run(db, team=team, is_open=True)
        resident = db.get(User, enrol_participant(db, run=run).user_id)
    else:
        resident = make_resident(db, team=team)
    address = email()
    set_email(resident, address, current_app.extensions["rph_crypto"])
    resident.locale = lang
    db.commit()
    sign_in_by_code(page, mailbox, address)
    page.goto("/me")
    links = page.locator("nav.tab-bar a")
    entries = 6 if on_a_course else 5
    assert links.count() == entries
    for width in (PHONE["viewport"]["width"], 320):
        page.set_viewport_size({"width": width, "height": 740})
        boxes = [links.nth(i).bounding_box() for i in range(entries)]
        for i, box in enumerate(boxes):
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, i, box)
            assert box["height"] >= 44 and box["width"] >= 44, (width, i, box)
            if i:
                assert boxes[i - 1]["x"] + boxes[i - 1]["width"] <= box["x"] + 0.5, (width, i, boxes)
            link = links.nth(i)
            assert link.evaluate("(a) => a.scrollWidth <= a.clientWidth"), (width, link.inner_text())
            assert link.evaluate(BAD_BREAKS) == [], (width, lang)
