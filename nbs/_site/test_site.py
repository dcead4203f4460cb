#!/usr/bin/env python
"""Open the built site (`python nbs/_site/build.py`) in headless Chromium and check it as a reader would.

    python nbs/_site/test_site.py [--site _site] [--shots _site/screenshots]

The site is served from 127.0.0.1 (a port the OS picks) and driven by Debian's chromium + chromium-driver through
selenium (no driver download: the chromedriver path is given). Checks:
  landing       the landing page (the index notebook) renders: its <h1> and <title> carry the project title from
                settings.ini, and the sidebar lists every notebook's page in notebook order
  api-compress  compress.html: the `compress` entry shows its signature (`def compress(` with its parameters, as
                inspect.signature gives them) and its docstring, under an anchor that nbdev's doc links use
  api-all       every exported function and class (`__all__` of each module) has its entry: the anchor nbdev's
                index (_modidx) links to opens a section headed by the name
  plot          every image on compress.html loads (naturalWidth > 0), at least one (the plan's plot)
  highlight     code cells are syntax-highlighted: Pygments keyword tokens are coloured unlike plain names
  search        the search page finds `compress` and links to its page
  links         every internal link (href on the site) of every page resolves, fragment (#id) included
Screenshots go to --shots. Prints one line per check and ends with `N passed, N failed`; exit 1 on any failure.
"""
from __future__ import annotations
import argparse, functools, http.server, importlib, inspect, json, os, re, shutil, sys, threading, time, traceback
from pathlib import Path
from urllib.parse import urljoin, urldefrag, urlparse, unquote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def chromium_paths():
    browser = next((shutil.which(b) for b in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(b)), None)
    driver = shutil.which('chromedriver') or ('/usr/bin/chromedriver' if Path('/usr/bin/chromedriver').exists() else None)
    return browser, driver


def start_server(site: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    h = functools.partial(Quiet, directory=str(site))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'


def make_driver(browser, driver):
    os.environ['SE_OFFLINE'] = 'true'  # selenium-manager must never try to download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = browser
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1440,1000',
              '--hide-scrollbars', '--disable-extensions', '--no-first-run'):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path=driver), options=o)
    d.set_page_load_timeout(60)
    return d


def settings():
    from configparser import ConfigParser
    c = ConfigParser(); c.read(ROOT/'settings.ini')
    return c['DEFAULT']


def norm(s): return re.sub(r'\s+', ' ', s or '').strip()


def page_order():
    "Pages in notebook order, as build.py makes them"
    sys.path.insert(0, str(HERE))
    import build
    return [build.page_name(r).as_posix() for r in build.notebooks()]


class Site:
    def __init__(self, d, base, shots: Path):
        self.d, self.base, self.shots = d, base, shots
        shots.mkdir(parents=True, exist_ok=True)

    def get(self, path):
        self.d.get(urljoin(self.base, path))
        self.d.execute_script("return document.readyState")
        return self.d

    def js(self, s, *a): return self.d.execute_script(s, *a)

    def shot(self, name, el=None):
        if el is not None:  # the theme scrolls smoothly: jump instead
            self.js("window.scrollTo({top: arguments[0].getBoundingClientRect().top + window.scrollY - 20, behavior: 'instant'})", el)
        time.sleep(0.3)
        self.d.save_screenshot(str(self.shots/f'{name}.png'))


def check_landing(s: Site, cfg):
    title = cfg['title']
    d = s.get('index.html')
    h1 = norm(s.js("const h=document.querySelector('article h1'); return h && h.textContent.replace('¶','')"))
    assert h1 == title, f'landing <h1> is {h1!r}, expected {title!r}'
    assert title in d.title, f'<title> {d.title!r} lacks {title!r}'
    body = norm(s.js("return document.querySelector('article').innerText"))
    assert len(body) > 500, f'landing page has almost no text ({len(body)} chars)'
    side = s.js("return [...document.querySelectorAll('.sidebar-tree a.reference')].map(a => a.getAttribute('href'))")
    want = [p + '.html' for p in page_order() if p != 'index']
    got = [h for h in side if h.split('#')[0] in want]
    assert got == want, f'sidebar pages {got} != notebook order {want}'
    s.shot('landing')
    return f'title {h1!r}, sidebar {len(want)} pages in notebook order'


def check_api_compress(s: Site, cfg):
    m = importlib.import_module(f"{cfg['lib_name']}.compress")   # the package re-exports the function by that name
    f = m.compress
    s.get('compress.html')
    assert s.js("return document.getElementById('compress')") is not None, 'no element with id "compress" (nbdev\'s anchor)'
    # the show_doc entry: the section headed `compress` whose own blocks hold the signature
    r = s.js("""
      for (const sec of document.querySelectorAll('article section')) {
        const h = sec.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4');
        if (!h || h.textContent.replace('¶', '').trim() !== 'compress') continue;
        const own = [...sec.children].filter(c => c.tagName !== 'SECTION');
        const text = own.map(c => c.innerText).join('\\n');
        if (text.includes('def compress(')) return {text: text, id: sec.id};
      }
      return null;""")
    assert r, 'no section headed "compress" with its signature on compress.html'
    t = norm(r['text'])
    for p in inspect.signature(f).parameters: assert f'{p}:' in t or f'{p}=' in t, f'parameter {p!r} missing from the signature: {t[:400]!r}'
    doc = re.sub(r'[`*]', '', norm(inspect.getdoc(f).splitlines()[0]))
    assert doc[:60] in t, f'docstring {doc[:60]!r} not shown: {t[:600]!r}'
    el = s.js("return document.getElementById(arguments[0])", r['id'])
    s.shot('api_compress', el)
    return f'signature with its {len(inspect.signature(f).parameters)} parameters and the docstring, section #{r["id"]}'


def check_api_all(s: Site, cfg):
    lib = cfg['lib_name']
    idx = importlib.import_module(f'{lib}._modidx').d['syms']
    ids_by_page, missing, n = {}, [], 0
    for mod, syms in idx.items():
        m = importlib.import_module(mod)
        for nm in getattr(m, '__all__', []):
            obj = getattr(m, nm, None)
            if nm.startswith('_') or not (inspect.isfunction(obj) or inspect.isclass(obj)): continue  # constants: no entry
            link = syms.get(f'{mod}.{nm}')
            if link is None: missing.append(f'{mod}.{nm} (not in _modidx)'); continue
            page, _, frag = link[0].partition('#')
            if page not in ids_by_page:
                s.get(page)
                # each anchor -> the heading text of the section it opens (or lies in)
                ids_by_page[page] = s.js("""const r = {};
                  for (const e of document.querySelectorAll('article [id]')) {
                    const sec = e.tagName === 'SECTION' ? e : e.closest('section');
                    const h = sec && sec.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > h5');
                    r[e.id] = h ? h.textContent.replace('¶', '').trim() : ''; }
                  return r;""")
            n += 1
            got = ids_by_page[page].get(frag)
            if got != nm: missing.append(f'{mod}.{nm} -> {page}#{frag} ' + ('(no such id)' if got is None else f'(heading {got!r})'))
    assert n > 0, 'no exported names found'
    assert not missing, f'{len(missing)} exported names without their entry: {missing[:10]}'
    return f'{n} exported names, each with its entry (heading = the name) at the anchor nbdev links to'


def check_plot(s: Site, cfg):
    s.get('compress.html')
    imgs = s.js("""return [...document.querySelectorAll('article img')].map(i =>
        ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth, h: i.naturalHeight}))""")
    assert imgs, 'no image on compress.html (the plan plot)'
    bad = [i['src'] for i in imgs if not i['ok']]
    assert not bad, f'images that did not load: {bad}'
    el = s.js("return document.querySelector('article img')")
    s.shot('plot_compress', el)
    return f"{len(imgs)} image(s) loaded, first {imgs[0]['w']}x{imgs[0]['h']} px"


def check_highlight(s: Site, cfg):
    s.get('compress.html')
    r = s.js("""
      const pre = [...document.querySelectorAll('div.cell_input div.highlight pre, div.highlight-ipython3 pre')];
      const kw = pre.map(p => p.querySelector('span.k, span.kn, span.kc')).find(x => x);
      const nm = pre.map(p => p.querySelector('span.n')).find(x => x);
      if (!kw || !nm) return {blocks: pre.length};
      return {blocks: pre.length, kw: getComputedStyle(kw).color, nm: getComputedStyle(nm).color};""")
    assert r.get('blocks', 0) > 0, 'no highlighted code block on compress.html'
    assert 'kw' in r, f'no Pygments keyword/name tokens in {r["blocks"]} code blocks'
    assert r['kw'] != r['nm'], f"keywords and names have the same colour {r['kw']}"
    el = s.js("return document.querySelector('div.cell_input')")
    s.shot('code_compress', el)
    return f"{r['blocks']} code blocks; keyword {r['kw']} vs name {r['nm']}"


def check_search(s: Site, cfg):
    from selenium.webdriver.support.ui import WebDriverWait
    s.get('search.html?q=compress')
    WebDriverWait(s.d, 30).until(lambda d: d.execute_script(  # Sphinx says so when the search has finished
        "const p = document.querySelector('#search-results p.search-summary'); return p && /\\d/.test(p.textContent)"))
    found = s.js("return [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.getAttribute('href'))")
    assert any(h.split('?')[0].split('#')[0].endswith('compress.html') for h in found), f'search results {found[:5]}'
    s.shot('search_compress')
    return f'{len(found)} results for "compress"'


def check_links(s: Site, cfg):
    base = s.base
    todo, seen, ids, bad, nlinks = ['index.html'], set(), {}, [], 0
    def page_ids(url):
        if url not in ids:
            s.d.get(url)
            ok = s.js("return !document.title.match(/^(404|Error response)/)")
            ids[url] = set(s.js("return [...document.querySelectorAll('[id],[name]')].map(e => e.id || e.getAttribute('name'))")) if ok else None
        return ids[url]
    while todo:
        p = todo.pop(0)
        url = urljoin(base, p)
        if url in seen: continue
        seen.add(url)
        s.d.get(url)
        hrefs = s.js("return [...document.querySelectorAll('a[href], link[href], img[src], script[src]')].map(e => e.href || e.src)")
        page_links = [h for h in hrefs if h.startswith(base)]
        links_from_here = []
        for h in page_links:
            target, frag = urldefrag(h)
            path = unquote(urlparse(target).path)[1:]
            f = Path(args_site)/path
            if f.is_dir(): f = f/'index.html'
            nlinks += 1
            if not f.exists(): bad.append(f'{p} -> {h} (no such file)'); continue
            if f.suffix == '.html':
                links_from_here.append((target, frag))
        for target, frag in links_from_here:
            if frag:
                ids_t = page_ids(target)
                if ids_t is None or frag not in ids_t: bad.append(f'{p} -> {target}#{frag} (no such id)')
            rel = target[len(base):]
            if rel.endswith('.html') and urljoin(base, rel) not in seen and not rel.startswith('_'): todo.append(rel)
    assert nlinks > 0, 'no internal links found'
    bad = list(dict.fromkeys(bad))
    assert not bad, f'{len(bad)} broken internal links: ' + '; '.join(bad[:12])
    return f'{nlinks} internal links on {len(seen)} pages resolve'


CHECKS = [('landing', check_landing), ('api-compress', check_api_compress), ('api-all', check_api_all),
          ('plot', check_plot), ('highlight', check_highlight), ('search', check_search), ('links', check_links)]


def main(argv=None):
    global args_site
    ap = argparse.ArgumentParser(description='Check the built site in headless Chromium')
    ap.add_argument('--site', default=str(ROOT/'_site'))
    ap.add_argument('--shots', default=None, help='screenshot folder (default: SITE/screenshots)')
    a = ap.parse_args(argv)
    site = Path(a.site).resolve(); args_site = site
    shots = Path(a.shots) if a.shots else site/'screenshots'
    if not (site/'index.html').exists():
        print(f'site not built: {site}/index.html missing (run python nbs/_site/build.py)')
        print(f'0 passed, {len(CHECKS)} failed'); return 1
    browser, driver = chromium_paths()
    if not browser or not driver:
        print('chromium or chromedriver not found (Debian: apt-get install chromium chromium-driver)')
        print(f'0 passed, {len(CHECKS)} failed'); return 1
    os.chdir(ROOT); sys.path.insert(0, str(ROOT))
    cfg = settings()
    srv, base = start_server(site)
    d = None
    passed = failed = 0
    try:
        d = make_driver(browser, driver)
        s = Site(d, base, shots)
        for name, f in CHECKS:
            t0 = time.time()
            try:
                msg = f(s, cfg); passed += 1
                print(f'ok   {name}: {msg} ({time.time()-t0:.1f} s)', flush=True)
            except Exception as e:
                failed += 1
                detail = str(e) if isinstance(e, AssertionError) else ''.join(traceback.format_exception_only(type(e), e)).strip()
                print(f'FAIL {name}: {detail}', flush=True)
                try: s.shot(f'FAIL_{name}')
                except Exception: pass
    except Exception as e:
        print(f'browser could not start: {e}')
        failed = len(CHECKS) - passed
    finally:
        if d is not None: d.quit()
        srv.shutdown()
    print(f'screenshots in {shots}')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


args_site = None
if __name__ == '__main__': sys.exit(main())
