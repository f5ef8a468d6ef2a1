"""The built pages in a real browser (Debian's chromium driven by Playwright; no downloaded browser).

The review is built once per run: the fictional example (every page) and the bundled data with
two claim reports. Each page must load offline with no console error and no failed request; every
link must resolve; the code toggle must work; no page may scroll sideways at 390 px; every verdict
badge must meet WCAG AA contrast as the browser renders it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from evidence_review.site import contrast_ratio

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = ("Browser tests need Chromium and Playwright for Python: `apt-get install -y chromium` (Debian/Ubuntu) "
           "and `pip install playwright` (in requirements.lock); never `playwright install`.")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - playwright is in the lock
    sync_playwright = None

pytestmark = pytest.mark.skipif(CHROMIUM is None or sync_playwright is None, reason=INSTALL)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


def _build(args: list[str], output: Path, cwd: Path) -> Path:
    """Build in a child process: forking this one after Playwright started its driver could hang."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "evidence_review.cli", "build", "--output", str(output), "--jobs", "2",
                           *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return output


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Two built reviews: the fictional example in full, the bundled data with two claim reports."""
    from evidence_review.paths import project_root

    root = tmp_path_factory.mktemp("browser")
    fixture = project_root() / "tests" / "fixtures" / "fictional"
    fictional = _build(["--params", "params.yaml"], root / "fictional", fixture)
    bundled = _build(["--claims", "symptom-relief-general,course-not-changed"], root / "bundled", project_root())
    return {"fictional": fictional, "bundled": bundled}


@pytest.fixture(scope="module")
def browser(sites):
    # Requesting ``sites`` first: the builds finish before the browser starts; module scope closes the
    # browser before other test files fork build workers.
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def pages_of(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def open_page(browser, path: Path, viewport=DESKTOP):
    """Open one page offline; return the page and the problems seen while loading it."""
    context = browser.new_context(viewport=viewport, offline=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    # Anything not on disk or inline would need the network: count it as a failure.
    page.route(re.compile(r"^(https?|wss?)://"), lambda route: (problems.append(f"network request: {route.request.url}"),
                                                                 route.abort()))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


def test_every_page_loads_offline_without_errors(sites, browser):
    for site in sites.values():
        for path in pages_of(site):
            page, problems = open_page(browser, path)
            assert page.title(), path
            page.context.close()
            assert not problems, (path.relative_to(site), problems)


def test_every_link_resolves(sites, browser):
    for site in sites.values():
        ids_of: dict[Path, set] = {}
        for path in pages_of(site):
            page, _ = open_page(browser, path)
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            if path not in ids_of:
                ids_of[path] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
            page.context.close()
            for href in hrefs:
                url = urlparse(href)
                if url.scheme in ("http", "https"):
                    continue  # a study's source page on the web: not followed offline
                assert url.scheme == "file", (path, href)
                target = Path(unquote(url.path))
                assert target.is_file(), (path.relative_to(site), href)
                if url.fragment and target.suffix == ".html":
                    if target not in ids_of:
                        ids_of[target] = set(re.findall(r'\bid="([^"]+)"', target.read_text(encoding="utf-8")))
                    assert unquote(url.fragment) in ids_of[target], (path.relative_to(site), href)


def test_every_page_has_the_same_header(sites, browser):
    for site in sites.values():
        for path in pages_of(site):
            page, _ = open_page(browser, path)
            nav = page.eval_on_selector_all(".site-header a", "els => els.map(e => e.textContent.trim())")
            page.context.close()
            assert nav == ["Summary", "All claims", "Studies", "Methods"], path


def test_code_toggle_shows_and_hides_the_code(sites, browser):
    page, _ = open_page(browser, sites["fictional"] / "03_evidence_by_claim.html")
    code = page.locator(".jp-CodeCell .jp-Cell-inputWrapper").first
    assert not code.is_visible()
    page.click("#toggle-code")
    assert code.is_visible()
    page.click("#toggle-code")
    assert not code.is_visible()
    page.context.close()


def test_no_sideways_scrolling_on_a_phone(sites, browser):
    checked = 0
    for site in sites.values():
        for path in [site / "summary.html", site / "index.html", site / "studies.html", site / "methods.html",
                     *sorted((site / "claims").glob("*.html"))]:
            page, _ = open_page(browser, path, PHONE)
            width = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            page.context.close()
            assert width <= inner, (path.relative_to(site), width, inner)
            checked += 1
    assert checked >= 10


def _rgb(css: str) -> str:
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def test_badges_meet_wcag_aa_as_rendered(sites, browser):
    page, _ = open_page(browser, sites["bundled"] / "index.html")
    colours = page.eval_on_selector_all(
        ".badge", "els => els.map(e => [e.className, getComputedStyle(e).color, getComputedStyle(e).backgroundColor])")
    page.context.close()
    kinds = set()
    for name, fg, bg in colours:
        kinds.add(name)
        assert contrast_ratio(_rgb(fg), _rgb(bg)) >= 4.5, (name, fg, bg)
    assert len(kinds) >= 4


def test_figures_have_real_alt_text(sites, browser):
    for site in sites.values():
        for path in pages_of(site):
            page, _ = open_page(browser, path)
            alts = page.eval_on_selector_all("img", "els => els.map(e => e.alt)")
            page.context.close()
            for alt in alts:
                assert alt and "No description" not in alt and len(alt) > 30, (path.relative_to(site), alt)
