"""Guided self-help programmes as content files (instruments-as-data, for text).

A programme is a folder `programmes/<slug>/` with a `programme.yml` (title, for whom, weeks) and
one Markdown file per module, `NN-<slug>.md` (NN = its order), whose YAML front matter says the
title, the minutes to read, the exercise, the worksheet it uses and its clinical sign-off status.
The shared closing module (`programmes/_shared/`), which builds the resident's self-help plan,
ends every programme.

Languages: the files without a language suffix are bokmål. A translation sits beside its source
as `NN-<slug>.<lang>.md` (and `programme.<lang>.yml`); `module_text(module, locale)` falls back to
bokmål where a translation is missing.

Everything is loaded once and checked when loaded: a broken file raises `ContentError`, which the
test suite (tests/selfhelp/test_content.py) turns into a failure long before a resident sees it.
The rendered HTML is sanitised with nh3 (an allow-list), so a content file cannot add scripts,
styles, forms or event handlers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import nh3
import yaml
from markdown_it import MarkdownIt

from .worksheets import WORKSHEETS

ROOT = Path(__file__).parent / "programmes"
SHARED = "_shared"
BASE_LANGUAGE = "nb"
LANGUAGES = ("nb", "nn", "en")
STATUSES = ("draft", "reviewed")
MODULE_NAME = re.compile(r"^(?P<order>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?:\.(?P<lang>nn|en))?\.md$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
#: Tags a module may use once rendered; everything else is removed (text kept).
ALLOWED_TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "blockquote", "hr", "br", "a",
                "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}


class ContentError(ValueError):
    """A programme or module file that does not follow the format."""


@dataclass(frozen=True)
class Review:
    """A clinical sign-off: who reviewed the module, and when."""

    by: str
    on: date


@dataclass(frozen=True)
class Module:
    """One module: its place in the programme, front matter and rendered body per language."""

    programme: str
    order: int
    slug: str
    title: str
    minutes: int
    exercise: str
    worksheet: str
    status: str
    review: Review | None
    #: The sanitised HTML of the body, by language ("nb" always).
    html: Mapping[str, str]
    #: The titles and exercises of translations, by language ("nb" always).
    titles: Mapping[str, str]
    exercises: Mapping[str, str]
    #: The Markdown source of the bokmål body (for word counts and readability).
    source: str

    @property
    def key(self) -> str:
        """Stable key of the module within its programme: "NN-slug"."""
        return f"{self.order:02d}-{self.slug}"

    @property
    def is_draft(self) -> bool:
        return self.status != "reviewed"


@dataclass(frozen=True)
class Programme:
    """A programme: its title, for whom, its length in weeks and its modules in order (the shared
    closing module last)."""

    slug: str
    title: str
    for_whom: str
    weeks: int
    modules: tuple[Module, ...]
    titles: Mapping[str, str]
    for_whoms: Mapping[str, str]

    def module(self, key: str) -> Module | None:
        return next((m for m in self.modules if m.key == key), None)


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render(markdown: str) -> str:
    """Markdown to sanitised HTML (raw HTML in the source is shown as text, then cleaned)."""
    html = _markdown.render(markdown)
    # Module headings start at h2: the page's own h1 is the module's title.
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"https"},
                     link_rel="noopener noreferrer")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ContentError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping")
    return data


def _text(data: dict[str, Any], name: str, path: Path) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{path}: '{name}' is missing or empty")
    return value.strip()


def _split(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    match = FRONT_MATTER.match(text)
    if match is None:
        raise ContentError(f"{path}: no front matter between '---' lines at the top")
    try:
        meta = yaml.safe_load(match["meta"])
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: front matter is not valid YAML ({error})") from error
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: front matter must be a mapping")
    body = match["body"].strip()
    if not body:
        raise ContentError(f"{path}: the module has no text")
    return meta, body


def _review(meta: dict[str, Any], path: Path) -> tuple[str, Review | None]:
    status = meta.get("status")
    if status not in STATUSES:
        raise ContentError(f"{path}: 'status' must be one of {STATUSES}")
    if status == "draft":
        return status, None
    by, on = meta.get("reviewed_by"), meta.get("reviewed_on")
    if not isinstance(by, str) or not by.strip() or not isinstance(on, date):
        raise ContentError(f"{path}: a reviewed module needs 'reviewed_by' and 'reviewed_on' (YYYY-MM-DD)")
    return status, Review(by=by.strip(), on=on)


def load_module(path: Path, programme: str) -> Module:
    """One module file and its translations (raises ContentError when broken)."""
    match = MODULE_NAME.match(path.name)
    if match is None or match["lang"]:
        raise ContentError(f"{path}: module files are named NN-slug.md")
    meta, body = _split(path)
    minutes = meta.get("minutes")
    if not isinstance(minutes, int) or not 1 <= minutes <= 60:
        raise ContentError(f"{path}: 'minutes' must be a whole number of minutes (1-60)")
    worksheet = meta.get("worksheet")
    if worksheet not in WORKSHEETS:
        raise ContentError(f"{path}: 'worksheet' must be one of {sorted(WORKSHEETS)}")
    status, review = _review(meta, path)
    html, titles, exercises = {BASE_LANGUAGE: render(body)}, {BASE_LANGUAGE: _text(meta, "title", path)}, \
        {BASE_LANGUAGE: _text(meta, "exercise", path)}
    for lang in LANGUAGES[1:]:
        translated = path.with_name(f"{path.stem}.{lang}.md")
        if translated.exists():
            tmeta, tbody = _split(translated)
            html[lang], titles[lang] = render(tbody), _text(tmeta, "title", translated)
            exercises[lang] = _text(tmeta, "exercise", translated)
    return Module(programme=programme, order=int(match["order"]), slug=match["slug"], title=titles[BASE_LANGUAGE],
                  minutes=minutes, exercise=exercises[BASE_LANGUAGE], worksheet=worksheet, status=status,
                  review=review, html=MappingProxyType(html), titles=MappingProxyType(titles),
                  exercises=MappingProxyType(exercises), source=body)


def _modules_in(folder: Path, programme: str) -> list[Module]:
    modules = []
    for path in sorted(folder.glob("*.md")):
        match = MODULE_NAME.match(path.name)
        if match is None:
            raise ContentError(f"{path}: module files are named NN-slug.md (or NN-slug.nn.md)")
        if match["lang"]:
            if not path.with_name(f"{match['order']}-{match['slug']}.md").exists():
                raise ContentError(f"{path}: a translation without its bokmål module")
            continue
        modules.append(load_module(path, programme))
    orders = [m.order for m in modules]
    if len(set(orders)) != len(orders):
        raise ContentError(f"{folder}: two modules share a number")
    return modules


def load_programme(folder: Path, closing: tuple[Module, ...] = ()) -> Programme:
    """One programme folder, with `closing` (the shared modules) added at the end."""
    slug = folder.name
    if not SLUG.match(slug):
        raise ContentError(f"{folder}: programme folders are named with lowercase letters, digits and '-'")
    path = folder / "programme.yml"
    if not path.exists():
        raise ContentError(f"{folder}: programme.yml is missing")
    data = _read_yaml(path)
    weeks = data.get("weeks")
    if not isinstance(weeks, int) or not 1 <= weeks <= 26:
        raise ContentError(f"{path}: 'weeks' must be a whole number of weeks (1-26)")
    titles, for_whoms = {BASE_LANGUAGE: _text(data, "title", path)}, {BASE_LANGUAGE: _text(data, "for_whom", path)}
    for lang in LANGUAGES[1:]:
        translated = folder / f"programme.{lang}.yml"
        if translated.exists():
            tdata = _read_yaml(translated)
            titles[lang], for_whoms[lang] = _text(tdata, "title", translated), _text(tdata, "for_whom", translated)
    modules = _modules_in(folder, slug)
    if not modules:
        raise ContentError(f"{folder}: the programme has no modules")
    return Programme(slug=slug, title=titles[BASE_LANGUAGE], for_whom=for_whoms[BASE_LANGUAGE], weeks=weeks,
                     modules=tuple(modules) + closing, titles=MappingProxyType(titles),
                     for_whoms=MappingProxyType(for_whoms))


def load_all(root: Path = ROOT) -> dict[str, Programme]:
    """Every programme under `root`, by slug (raises ContentError on the first broken file)."""
    shared = root / SHARED
    closing = tuple(_modules_in(shared, SHARED)) if shared.is_dir() else ()
    programmes = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != SHARED and not p.name.startswith(".")):
        if folder.name == "__pycache__":
            continue
        programmes[folder.name] = load_programme(folder, closing)
    return programmes


@lru_cache(maxsize=1)
def programmes() -> Mapping[str, Programme]:
    """The programmes shipped with the app, loaded once."""
    return MappingProxyType(load_all())


def programme(slug: str) -> Programme | None:
    return programmes().get(slug)


def localized(mapping: Mapping[str, str], locale: str | None) -> str:
    """The text for `locale` ("nb", "nn", "en"), else bokmål."""
    return mapping.get(str(locale or BASE_LANGUAGE)[:2], mapping[BASE_LANGUAGE])


# --- Readability --------------------------------------------------------------------------------

_BLOCK = re.compile(r"<(?:p|li|h[1-6]|td|th|blockquote)[^>]*>(.*?)</(?:p|li|h[1-6]|td|th|blockquote)>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[0-9A-Za-zÆØÅæøåÉéÈèÜüÖöÄä]+(?:[-'][0-9A-Za-zÆØÅæøåÉéÈèÜüÖöÄä]+)*")
_SENTENCE_END = re.compile(r"[.!?:]+(?=\s|$)")


def plain_blocks(markdown: str) -> list[str]:
    """The text of each block (paragraph, list item, heading, cell) of a module, tags removed."""
    html = _markdown.render(markdown)
    blocks = []
    for match in _BLOCK.finditer(html):
        text = _TAG.sub(" ", match.group(1))
        text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
        text = " ".join(text.split())
        if text:
            blocks.append(text)
    return blocks


def words(markdown: str) -> list[str]:
    """The words of a module's text (numbers count as words)."""
    return [w for block in plain_blocks(markdown) for w in _WORD.findall(block)]


def lix(markdown: str) -> float:
    """LIX readability (Björnsson): words per sentence + the share of words over six letters in
    percent. A block without an end mark (a heading, a list item) counts as one sentence."""
    blocks = plain_blocks(markdown)
    all_words = [w for block in blocks for w in _WORD.findall(block)]
    if not all_words:
        return 0.0
    sentences = 0
    for block in blocks:
        ends = len(_SENTENCE_END.findall(block))
        sentences += ends if ends and _SENTENCE_END.search(block.rstrip()[-1:] or "") else ends + 1
    long_words = sum(1 for w in all_words if len(w) > 6)
    return len(all_words) / sentences + 100 * long_words / len(all_words)
