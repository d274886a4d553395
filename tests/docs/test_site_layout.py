"""The built docs site reads well at a laptop width, checked without a browser (CI has none).

- Every page under docs/ (docs/examples/ excepted: a plugin package's own files) is in mkdocs.yml's
  nav, and every built page is linked from the built home page's navigation.
- Code blocks wrap instead of hiding the end of a long line. The theme scrolls a wide block
  sideways behind a thin scrollbar that macOS and touch screens hide, so at 1280 px the install
  one-liner seemed to end at ``... && hookwire cha``. The site's stylesheet (extra.css, after the
  theme's) makes ``pre > code`` wrap, and no code token (a run without spaces: where a wrapping
  line cannot break) is longer than one line of a block at 1280 px.
- Table cells break between words: inline code in a table does not break anywhere, as the theme
  lets it (it split ``invalid_api_key`` in the mock server's dialect table).
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

#: What the theme shows of one code line at a 1280 px wide window. Measured once in Chromium 156
#: (headless, --window-size=1280,800, both sidebars shown) with a script in a copy of the built
#: index.html that read getComputedStyle of the first ``.md-typeset pre > code`` and the width of a
#: span of 100 "0"s inside it: the block is 688 px wide with 16 px padding each side, the code font
#: is 13.6 px (the theme's .85em of .8rem, root 20 px) and one character 8.18 px (DejaVu Sans Mono
#: standing in for the theme's Roboto Mono, which it fetches from Google Fonts; both are 0.6 em),
#: so 80 characters; the first line keeps 2em (27.2 px) clear for the copy button (extra.css),
#: leaving 76. The budget is that narrowest line.
BLOCK_PX, PADDING_PX, CHAR_PX, COPY_BUTTON_PX = 688, 16, 8.18, 27.2
CODE_LINE_CHARS = int((BLOCK_PX - 2 * PADDING_PX - COPY_BUTTON_PX) // CHAR_PX)
assert CODE_LINE_CHARS == 76




# -- the navigation ---------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """mkdocs.yml may hold tags such as ``!ENV`` or ``!!python/name:``: read them as None."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)


def nav_pages() -> list[str]:
    """The Markdown files named in mkdocs.yml's nav, in order."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)

    def walk(entry: Any) -> list[str]:
        if isinstance(entry, str):
            return [entry]
        if isinstance(entry, list):
            return [page for item in entry for page in walk(item)]
        if isinstance(entry, dict):
            return [page for value in entry.values() for page in walk(value)]
        return []

    return [page for page in walk(config["nav"]) if page.endswith(".md")]


def built_url(page: str) -> str:
    """Where a nav page is built: ``http.md`` -> ``http/``, ``index.md`` -> ``""``."""
    stem = page[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


class _PrimaryNav(HTMLParser):
    """The hrefs of the links inside the theme's primary navigation (``nav.md-nav--primary``)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # <nav> elements open inside the primary one, itself included
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav" and (self.depth or "md-nav--primary" in (values.get("class") or "")):
            self.depth += 1
        elif tag == "a" and self.depth and values.get("href"):
            self.hrefs.append(values["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.depth:
            self.depth -= 1


def test_every_page_is_in_the_nav() -> None:
    pages = {
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.md")
        if path.relative_to(DOCS).parts[0] != "examples"
    }
    assert len(pages) > 10
    missing = sorted(pages - set(nav_pages()))
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"


def test_every_built_page_is_linked_from_the_home_page_navigation(site: Path) -> None:
    parser = _PrimaryNav()
    parser.feed((site / "index.html").read_text(encoding="utf-8"))
    linked = {href.split("#")[0].removeprefix("./").rstrip(".") for href in parser.hrefs}
    for page in nav_pages():
        url = built_url(page)
        assert (site / url / "index.html").is_file(), f"{page} was not built at {url}"
        assert url in linked, f"{page} ({url}) is not linked from the home page's navigation"


# -- code blocks and tables -------------------------------------------------------------------


def css_rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """The top-level rules of a stylesheet: (selectors with spaces normalised, declarations)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selector, body in re.findall(r"([^{}@]+)\{([^{}]*)\}", css):
        selectors = [re.sub(r"\s*>\s*", ">", " ".join(s.split())) for s in selector.split(",")]
        declarations: dict[str, str] = {}
        for declaration in body.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                declarations[name.strip().lower()] = " ".join(value.split()).lower()
        rules.append((selectors, declarations))
    return rules


def declared(rules: list[tuple[list[str], dict[str, str]]], selector: str, prop: str) -> str | None:
    """The value the last rule naming ``selector`` gives ``prop`` (the one the cascade keeps)."""
    value = None
    for selectors, declarations in rules:
        if selector in selectors and prop in declarations:
            value = declarations[prop]
    return value


def stylesheets(page: str) -> list[str]:
    """The hrefs of a page's ``<link rel="stylesheet">`` tags, in document order."""
    tags = re.findall(r"<link\b[^>]*>", page)
    links = [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in tags]
    return [link["href"] for link in links if link.get("rel") == "stylesheet" and "href" in link]


def test_every_page_loads_the_site_stylesheet_after_the_theme(site: Path) -> None:
    for built in sorted(site.rglob("index.html")):
        links = stylesheets(built.read_text(encoding="utf-8"))
        extra = [i for i, href in enumerate(links) if href.endswith("stylesheets/extra.css")]
        theme = [i for i, href in enumerate(links) if "/stylesheets/main." in f"/{href}"]
        where = built.relative_to(site)
        assert extra, f"{where} does not load stylesheets/extra.css (mkdocs.yml extra_css)"
        assert theme and theme[-1] < extra[0], f"{where} loads extra.css before the theme's CSS"


def extra_rules(site: Path) -> list[tuple[list[str], dict[str, str]]]:
    """The rules of the site's own stylesheet (the test above: every page loads it last)."""
    built = site / "stylesheets" / "extra.css"
    assert built.is_file(), "the site has no stylesheets/extra.css (docs/stylesheets/extra.css)"
    return css_rules(built.read_text(encoding="utf-8"))


def test_code_blocks_wrap_long_lines(site: Path) -> None:
    extra_css = extra_rules(site)
    # the theme's rule has this very selector, so the later stylesheet's value is the one shown
    assert declared(extra_css, ".md-typeset pre>code", "white-space") == "pre-wrap"
    # a token longer than the block would still break rather than hide (the next test keeps the
    # docs free of such tokens)
    wrap = declared(extra_css, ".md-typeset pre>code", "overflow-wrap")
    assert wrap in ("break-word", "anywhere")


def test_table_cells_do_not_break_inline_code_mid_word(site: Path) -> None:
    extra_css = extra_rules(site)
    selector = ".md-typeset table:not([class]) code"  # more specific than the theme's rule
    assert declared(extra_css, selector, "word-break") == "normal"
    assert declared(extra_css, selector, "overflow-wrap") == "normal"


def code_blocks(page: str) -> list[str]:
    """The text of every ``<pre><code>`` block of a built page."""
    blocks = []
    for pre in re.findall(r"<pre\b[^>]*>(.*?)</pre>", page, flags=re.S):
        for code in re.findall(r"<code\b[^>]*>(.*?)</code>", pre, flags=re.S):
            blocks.append(html.unescape(re.sub(r"<[^>]+>", "", code)))
    return blocks


def columns(text: str) -> int:
    """Terminal-style width: a wide (CJK) character takes two columns of a monospace font."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_no_code_token_is_longer_than_a_line_at_1280px(site: Path) -> None:
    pages = sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "assets")
    too_long, lines = [], 0
    for built in pages:
        for block in code_blocks(built.read_text(encoding="utf-8")):
            for number, line in enumerate(block.splitlines(), 1):
                lines += 1
                too_long += [
                    f"{built.relative_to(site)} line {number} of a block: {token!r} "
                    f"({columns(token)} > {CODE_LINE_CHARS})"
                    for token in line.split()
                    if columns(token) > CODE_LINE_CHARS
                ]
    assert lines > 500  # the blocks were found
    assert not too_long, "tokens that cannot wrap (add a space, or shorten):\n" + "\n".join(
        too_long
    )
