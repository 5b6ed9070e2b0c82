"""`forms.run_form_action`, the one way to run a form's action or show the form again with its
errors, and the error pages of the services' domain errors (web.py)."""
from __future__ import annotations

import pytest
from flask import get_flashed_messages
from wtforms import StringField
from wtforms.validators import DataRequired

from rph_pwa import create_app, forms
from rph_pwa.config import TestConfig
from rph_pwa.forms import BaseForm, Refusal, run_form_action
from rph_pwa.services import errors


class NameForm(BaseForm):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired("Write a name.")])


class FakeSession:
    """Records whether the action's work was committed or rolled back."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def commit(self) -> None:
        self.calls.append("commit")

    def rollback(self) -> None:
        self.calls.append("rollback")


@pytest.fixture
def db(monkeypatch):
    session = FakeSession()
    monkeypatch.setattr(forms, "get_session", lambda: session)
    return session


@pytest.fixture
def posted(app):
    """A POST request context with `name` as the form data."""
    def post(name: str):
        return app.test_request_context("/anywhere", method="POST", data={"name": name})
    return post


def _run(form, action, **kwargs):
    shown = []

    def show():
        shown.append([str(e) for e in form.name.errors])
        return "the page"

    kwargs = {"back": "/page", "done": "Saved.", **kwargs}
    return run_form_action(form, action, show=show, **kwargs), shown


def _raise(error):
    def action(_db):
        raise error
    return action


def test_a_form_not_sent_yet_is_shown_and_the_action_does_not_run(db, app):
    ran = []
    with app.test_request_context("/anywhere", method="GET"):
        answer, shown = _run(NameForm(), lambda _db: ran.append(1))
        assert answer == "the page" and shown == [[]]
    assert ran == [] and db.calls == []


def test_an_invalid_form_is_shown_again_with_400_and_the_action_does_not_run(db, posted):
    ran = []
    with posted(""):
        answer, shown = _run(NameForm(), lambda _db: ran.append(1))
        assert answer == ("the page", 400) and shown == [["Write a name."]]
        assert get_flashed_messages() == []
    assert ran == [] and db.calls == []


def test_success_commits_says_done_and_goes_back_or_where_the_result_says(db, posted):
    with posted("Kari"):
        answer, _shown = _run(NameForm(), lambda _db: 7)
        assert answer.status_code == 302 and answer.location == "/page"
        assert get_flashed_messages(with_categories=True) == [("success", "Saved.")]
    with posted("Kari"):
        answer, _shown = _run(NameForm(), lambda _db: 7, then=lambda result: f"/items/{result}")
        assert answer.location == "/items/7"
    assert db.calls == ["commit", "commit"]


def test_a_refusal_on_a_field_shows_the_form_again_with_the_message(db, posted):
    with posted("Kari"):
        form = NameForm()
        answer, shown = _run(form, _raise(errors.Conflict("name taken")),
                             refusals=[Refusal(errors.Conflict, "The name is taken.", field=form.name)])
        assert answer == ("the page", 400) and shown == [["The name is taken."]]
        assert get_flashed_messages() == []
    assert db.calls == ["rollback"]


def test_a_refusal_without_a_field_is_flashed_and_goes_back(db, posted):
    with posted("Kari"):
        answer, shown = _run(NameForm(), _raise(errors.Conflict("closed")),
                             refusals=[Refusal(ValueError, "Not this one."),
                                       Refusal(errors.Conflict, "It was already closed.", category="info")])
        assert answer.status_code == 302 and answer.location == "/page" and shown == []
        assert get_flashed_messages(with_categories=True) == [("info", "It was already closed.")]
    assert db.calls == ["rollback"]


def test_a_refusal_that_counts_is_committed(db, posted):
    """A wrong code is recorded (it uses up a try), so its refusal commits."""
    with posted("123456"):
        form = NameForm()
        answer, _shown = _run(form, _raise(errors.SecondFactorLocked("locked")),
                              refusals=[Refusal(errors.SecondFactorLocked, "Locked.", field=form.name, commit=True),
                                        Refusal(errors.InvalidCode, "Wrong code.", field=form.name, commit=True)])
        assert answer[1] == 400 and form.name.errors == ["Locked."]
    assert db.calls == ["commit"]


@pytest.mark.parametrize("error", [errors.Conflict("episode ended"), errors.NotFound("episode"), ValueError("x")])
def test_an_error_the_caller_did_not_name_is_not_swallowed(db, posted, error):
    """Only the refusals a caller names are said; no Conflict becomes another page's message."""
    with posted("Kari"), pytest.raises(type(error)):
        _run(NameForm(), _raise(error), refusals=[Refusal(errors.InvalidCode, "Wrong code.")])
    assert db.calls == []


class Gone(errors.NotFound):
    """A more precise NotFound: the same page."""


def test_domain_errors_become_their_error_pages(app_settings):
    app = create_app(TestConfig, **app_settings)
    raised = {"not-found": errors.NotFound("referral"), "gone": Gone("draft"), "forbidden": errors.Forbidden("x")}

    @app.route("/raise/<name>")
    def raise_error(name: str):
        raise raised[name]

    client = app.test_client()
    client.set_cookie("lang", "en")
    for name, status, title in (("not-found", 404, "Page not found"), ("gone", 404, "Page not found"),
                                ("forbidden", 403, "No access")):
        response = client.get(f"/raise/{name}")
        assert response.status_code == status and title in response.get_data(as_text=True)
    assert client.get("/raise/not-found", headers={"Content-Type": "application/json"}).get_json() == {
        "error": "The page does not exist, or you do not have access to it."}
