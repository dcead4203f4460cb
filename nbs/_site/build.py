#!/usr/bin/env python
"""Build the documentation site offline from the notebooks, and README.md from `nbs/index.ipynb`.

    python nbs/_site/build.py                 # the site, into _site/ (open _site/index.html)
    python nbs/_site/build.py --readme        # write README.md from nbs/index.ipynb
    python nbs/_site/build.py --check-readme  # exit 1 if README.md differs from what nbs/index.ipynb gives

The notebooks go through nbdev's own processing (`nbdev.processors.FilterDefaults`: front matter, `show_doc` entries
for every exported name, `#| hide`, `#| echo`, ... exactly as `nbdev_docs` does before Quarto renders), with one
change: the processor that would run only the import/export/`show_doc` cells runs every cell that `nbdev_test` runs
(cells flagged with a `tst_flags` flag such as `#|slow` or `#|gpu`, and `#| eval: false` cells, are not run), so
plots and printed results appear. The processed notebooks are then rendered by Sphinx (myst-nb, furo theme);
the only translation is of the Quarto-specific bits: the title block, cell options (`echo`, `output`, `include`,
`code-fold`) and the site links nbdev writes as absolute URLs. README.md is the processed (not executed) index
notebook as GitHub markdown, like `nbdev_readme`, which renders it with `--no-execute`.

On a machine with Quarto, `nbdev_docs` still builds nbdev's standard site from nbs/_quarto.yml and nbs/nbdev.yml.
"""
from __future__ import annotations
import argparse, difflib, hashlib, json, os, re, shutil, sys, tempfile, time, traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
os.chdir(ROOT)  # nbdev finds settings.ini from the working directory

from fastcore.xtras import working_directory
from execnb.nbio import read_nb
from execnb.shell import CaptureShell
from nbdev.config import get_config
from nbdev.doclinks import nbglob, _nbpath2html
from nbdev.processors import FilterDefaults, exec_show_docs, strip_ansi, filter_stream_
from nbdev.quarto import _sort

OUT = ROOT/'_site'              # the HTML site (what is published)
WORK = ROOT/'_site_build'       # work folder (git-ignored)
PROC = WORK/'proc'              # notebooks as nbdev processed and ran them (cached on notebook + library)
SRC = WORK/'src'                # the same as myst-nb notebooks: Sphinx's source folder
EXEC_VERSION = '1'              # bump when what `exec_all` stores changes, to invalidate PROC


def cfg(): return get_config()
def site_url(): return (cfg().doc_host + cfg().doc_baseurl).rstrip('/') + '/'


def notebooks() -> list[Path]:
    "Notebooks of the site relative to nbs/, in nbdev's sidebar order (index first, then by name); `_`/`.` paths skipped"
    nbs = cfg().nbs_path
    files = nbglob(nbs, as_path=True)
    pairs = sorted(((str(f.parent.relative_to(nbs)), f.name) for f in files), key=_sort)
    return [Path(d)/n for d, n in pairs]


def page_name(rel: Path) -> Path:
    "The page a notebook becomes, as on nbdev's Quarto site (`04_compress.ipynb` -> `compress`)"
    return _nbpath2html(rel).with_suffix('')


# --- execution: nbdev's processors, with every testable cell run --------------------------------------------------

class exec_all(exec_show_docs):
    "Like nbdev's `exec_show_docs`, but run every cell `nbdev_test` would run (skipping `tst_flags` and `eval: false`)"
    def begin(self):
        fm = getattr(self.nb, 'frontmatter_', {})
        self.skip_exec = str(fm.get('skip_exec', False)).lower() in ('true', '1', 'yes')
        if self.skip_exec: return super().begin()
        self.flags = set(cfg().tst_flags.split())
        self.k = CaptureShell(self.nb.path_)
        self.k.run_cell('from nbdev.showdoc import show_doc')

    def __call__(self, cell):
        if self.skip_exec: return super().__call__(cell)
        if cell.cell_type != 'code' or not cell.source or 'nbdev_export'+'(' in cell.source: return
        d = cell.directives_ or {}
        if d.get('eval:', [''])[0].lower() == 'false' or self.flags & d.keys(): return
        self.k.cell(cell)
        if self.k.exc:
            raise RuntimeError(f'{Path(self.nb.path_).name}: error in cell {cell.idx_}:\n{cell.source}\n\n'
                               + self.k.prettytb(fname=self.nb.path_)) from None
        strip_ansi(cell)
        if 'filter_stream' in d: filter_stream_(cell, *d['filter_stream'])


class SiteFilter(FilterDefaults):
    "nbdev's docs processors (honouring `skip_procs`/`procs` in settings.ini) with `exec_all` for `exec_show_docs`"
    def base_procs(self): return [exec_all if p is exec_show_docs else p for p in super().base_procs()]


def process_nb(path: Path, execute=True):
    "Read and process the notebook at `path` as nbdev does for its docs (running its cells when `execute`)"
    nb = read_nb(path)
    with working_directory(path.parent): (SiteFilter() if execute else FilterDefaults())(nb)
    return nb


# --- from a processed notebook to page cells ----------------------------------------------------------------------

_re_qopt = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_re_link_attrs = re.compile(r'(\]\([^()\s]*\))\{[^{}\n]*\}')   # Pandoc attributes after a link: [a](b){...}


def split_options(src: str):
    "Quarto cell options (`#| key: value` lines nbdev leaves in place) and the code without them"
    lines, opts = src.splitlines(), {}
    while lines and (m := _re_qopt.match(lines[0])):
        opts[m.group(1)] = m.group(2).strip('"\''); lines.pop(0)
    return opts, '\n'.join(lines)


def _text(x): return ''.join(x) if isinstance(x, list) else (x or '')


def rewrite_links(md: str, page: Path, readme=False) -> str:
    "nbdev writes links to site pages as absolute URLs (`add_links`); the notebooks write relative `page.html` links"
    base = site_url()
    def _site(m):
        url = m.group(2)
        if readme:  # GitHub: a relative `page.html` link goes to the published site
            if not re.match(r'^[a-z][a-z0-9+.-]*:|^#|^/', url) and re.match(r'^[^#?]+\.html(#.*)?$', url):
                url = base + url
        else:       # the site: link to the page's source so Sphinx resolves (and checks) it
            if url.startswith(base): url = os.path.relpath(url[len(base):] or 'index.html', page.parent.as_posix() or '.')
            if not re.match(r'^[a-z][a-z0-9+.-]*:|^#|^/', url):
                url = re.sub(r'^([^#?]+)\.html(?=#|$)', r'\1.ipynb', url)
        return f'{m.group(1)}({url})'
    md = re.sub(r'(\]\s*)\(([^()\s]+)\)', _site, md)
    if readme: md = _re_link_attrs.sub(r'\1', md)
    return md


def title_block(nb):
    "The front matter nbdev made from the `# Title` / `> description` cell (Quarto renders it as the title block)"
    c = nb.cells[0] if nb.cells else None
    if c is None or c.cell_type != 'raw': return {}, nb.cells
    import yaml
    m = re.match(r'^---\s*\n(.*?)\n---\s*$', _text(c.source).strip(), flags=re.S)
    return ((yaml.safe_load(m.group(1)) or {}), nb.cells[1:]) if m else ({}, nb.cells)


# --- the site: myst-nb notebooks for Sphinx -----------------------------------------------------------------------

def _md_output(o):
    return o.get('output_type') in ('execute_result', 'display_data') and 'text/markdown' in o.get('data', {})


def _clean_output(o):
    o = {k: v for k, v in o.items() if not k.endswith('_')}
    if o.get('output_type') in ('execute_result', 'display_data'):
        o.setdefault('metadata', {})
        if o['output_type'] == 'execute_result': o.setdefault('execution_count', None)
    if o.get('output_type') == 'stream': o['text'] = _text(o.get('text'))
    return o


def _asis_md(md: str, page: Path) -> str:
    md = rewrite_links(md, page)
    # show_doc entries open with a `---` rule; docutils refuses a section that begins with one, so it goes in as HTML
    return re.sub(r'^\s*---\s*\n', '<hr class="showdoc">\n\n', md)


def to_myst_nb(nb, page: Path) -> dict:
    "A plain nbformat-4 notebook for myst-nb: the title block as `# Title` + description, Quarto cell options as tags"
    fm, cells = title_block(nb)
    out = []
    def md_cell(src): out.append(dict(cell_type='markdown', metadata={}, source=src))
    if fm.get('title'):
        md_cell(f"# {fm['title']}\n" + (f"\n{{.description}}\n{fm['description']}\n" if fm.get('description') else ''))
        out[-1]['id'] = 'title'
    for c in cells:
        if c.cell_type == 'markdown': md_cell(rewrite_links(_text(c.source), page))
        elif c.cell_type == 'raw': out.append(dict(cell_type='raw', metadata={}, source=_text(c.source)))
        else:
            opts, src = split_options(_text(c.source))
            if opts.get('include') == 'false': continue
            outs = c.get('outputs', [])
            # `output: asis` (show_doc entries): Quarto puts markdown output into the page as markdown, so its
            # headings are the page's own (table of contents, anchors); so does this
            asis = [o for o in outs if _md_output(o)] if opts.get('output') == 'asis' else []
            outs = [_clean_output(o) for o in outs if not any(o is a for a in asis)]
            for o in outs:
                if _md_output(o): o['data'] = dict(o['data'], **{'text/markdown': rewrite_links(_text(o['data']['text/markdown']), page)})
            tags = []
            if opts.get('echo') == 'false' or not src.strip(): tags.append('remove-input')
            if opts.get('output') == 'false': tags.append('remove-output')
            if opts.get('code-fold') in ('true', 'True'): tags.append('hide-input')
            if src.strip() and 'remove-input' not in tags or outs:
                out.append(dict(cell_type='code', metadata={'tags': tags} if tags else {}, source=src,
                                execution_count=None, outputs=outs))
            for o in asis: md_cell(_asis_md(_text(o['data']['text/markdown']), page))
    for i, c in enumerate(out): c.setdefault('id', f'c{i}')
    meta = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'},
            'language_info': {'name': 'python', 'pygments_lexer': 'ipython3'}}
    return dict(cells=out, metadata=meta, nbformat=4, nbformat_minor=5)


_re_heading = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$', re.M)
_re_fence = re.compile(r'^ {0,3}(```|~~~).*?^ {0,3}\1', re.M | re.S)


def heading_ids(d: dict) -> set:
    "The ids (Pandoc's rule, as conf.py sets for MyST) of the markdown headings of a myst-nb notebook"
    sys.path.insert(0, str(HERE))
    from slugs import pandoc_slug
    ids = set()
    for c in d['cells']:
        if c['cell_type'] != 'markdown' or c.get('id') == 'title': continue   # the title takes no anchor (slugs.py)
        for m in _re_heading.finditer(_re_fence.sub('', _text(c['source']))):
            ids.add(pandoc_slug(re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', m.group(2))))   # link text only
    return ids


_re_page_link = re.compile(r'\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s#]*\.ipynb)?#([^()\s]+)\)')


def drop_dead_anchor_links(docs: dict) -> list:
    """nbdev links every backticked name it indexed, private ones too, to `page#name`; where the page has no such
    entry, keep the text and drop the link (it would be a dead anchor on nbdev's own site too). Returns what it dropped"""
    ids = {name: heading_ids(d) for name, d in docs.items()}
    dropped = []
    for name, d in docs.items():
        here = Path(name)
        def fix(m):
            target = (here.parent/m.group(2)).with_suffix('').as_posix() if m.group(2) else name
            target = os.path.normpath(target)
            if target in ids and m.group(3) not in ids[target]:
                dropped.append(f'{name}: {target}#{m.group(3)}'); return m.group(1)
            return m.group(0)
        for c in d['cells']:
            if c['cell_type'] == 'markdown': c['source'] = _re_page_link.sub(fix, _text(c['source']))
            for o in c.get('outputs', []):
                if _md_output(o): o['data']['text/markdown'] = _re_page_link.sub(fix, _text(o['data']['text/markdown']))
    return dropped


def _atomic_write(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix='.' + path.name, suffix='.tmp')
    with os.fdopen(fd, 'w', encoding='utf-8') as f: f.write(text)
    os.replace(tmp, path)


def _lib_key() -> str:
    "What a notebook's run depends on besides the notebook: the library, settings.ini, nbdev's processing"
    h = hashlib.sha256(EXEC_VERSION.encode())
    for p in sorted(cfg().lib_path.rglob('*.py')) + [cfg().config_file]:
        h.update(str(p.relative_to(cfg().config_path)).encode()); h.update(p.read_bytes())
    import nbdev, execnb; h.update(f'{nbdev.__version__} {execnb.__version__}'.encode())
    return h.hexdigest()


def run_page(rel: Path, lib_key: str, force: bool = False) -> dict:
    "Process and run one notebook into PROC (skipped when notebook and library are unchanged). Returns a report"
    src = cfg().nbs_path/rel
    dst = PROC/rel
    key = hashlib.sha256(src.read_bytes() + lib_key.encode()).hexdigest()
    stamp = dst.with_name(dst.name + '.key')
    if not force and dst.exists() and stamp.exists() and stamp.read_text() == key:
        return dict(nb=rel.as_posix(), ok=True, cached=True, secs=0.0)
    t0 = time.time()
    os.environ['IN_TEST'] = '1'  # as nbdev_test and nbdev's docs processing do
    try: nb = process_nb(src.absolute())
    except Exception as e:
        msg = str(e) if isinstance(e, RuntimeError) else traceback.format_exc()
        return dict(nb=rel.as_posix(), ok=False, error=msg, secs=time.time()-t0)
    finally: os.environ.pop('IN_TEST', None)
    from execnb.nbio import nb2str
    _atomic_write(dst, nb2str(nb))
    _atomic_write(stamp, key)
    return dict(nb=rel.as_posix(), ok=True, cached=False, secs=time.time()-t0)


def _run_page_proc(rel: Path, force: bool) -> dict:
    "Run one notebook in a fresh Python process (each notebook on its own, as nbdev_test; a crash stays contained)"
    import subprocess
    env = dict(os.environ, MPLBACKEND='agg')
    r = subprocess.run([sys.executable, __file__, '--page', rel.as_posix()] + (['--force'] if force else []),
                       cwd=ROOT, env=env, capture_output=True, text=True)
    last = r.stdout.strip().splitlines()[-1:] or ['']
    try: return json.loads(last[0])
    except ValueError:
        return dict(nb=rel.as_posix(), ok=False, error=f'exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}', secs=0.0)


_IMAGES = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp'}


def write_sources(rels: list[Path]) -> list[str]:
    "The myst-nb notebooks for Sphinx, from the processed ones; the index gets the sidebar (a hidden toctree)"
    pages = [page_name(r).as_posix() for r in rels]
    docs = {p: to_myst_nb(read_nb(PROC/r), Path(p)) for p, r in zip(pages, rels)}
    dropped = drop_dead_anchor_links(docs)
    entries = '\n'.join(p for p in pages if p != 'index')
    docs['index']['cells'].append(dict(cell_type='markdown', id='site-toctree', metadata={},
                                       source=f'```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{entries}\n```\n'))
    want = {SRC/f'{p}.ipynb' for p in pages}
    for f in (SRC.rglob('*.ipynb') if SRC.exists() else []):
        if f not in want: f.unlink()   # the notebook is gone
    # images the notebooks' markdown refers to (`![](img/x.png)`), as nbdev copies nbs/ for Quarto
    for f in cfg().nbs_path.rglob('*'):
        rel = f.relative_to(cfg().nbs_path)
        if f.is_file() and f.suffix.lower() in _IMAGES and not any(q[0] in '_.' for q in rel.parts):
            (SRC/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, SRC/rel)
    for p, d in docs.items():
        f, text = SRC/f'{p}.ipynb', json.dumps(d, indent=1, ensure_ascii=False) + '\n'
        if not f.exists() or f.read_text(encoding='utf-8') != text: _atomic_write(f, text)  # unchanged: Sphinx skips it
    return dropped


def build_site(workers: int, force: bool = False, strict: bool = False) -> int:
    t0 = time.time()
    rels = notebooks()
    if Path('index.ipynb') not in rels: sys.exit('build: nbs/index.ipynb is missing')
    print(f'build: {len(rels)} notebooks, {workers} at a time', flush=True)
    lib_key = _lib_key()
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(workers) as ex: res = list(ex.map(lambda r: _run_page_proc(r, force), rels))
    for r in res:
        print(f"  {'ok  ' if r['ok'] else 'FAIL'} {r['nb']}" + (' (unchanged)' if r.get('cached') else f" ({r['secs']:.0f} s)"))
    bad = [r for r in res if not r['ok']]
    for r in bad: print(f"\n--- {r['nb']} ---\n{r['error']}", file=sys.stderr)
    if bad: print(f'build: {len(bad)} notebook(s) failed', file=sys.stderr); return 1
    t1 = time.time()
    dropped = write_sources(rels)
    for d in dropped: print(f'  note: no entry for the link {d}; kept as text')
    from sphinx.cmd.build import build_main
    # a fresh Sphinx build each time (a few seconds): nothing stale from an earlier build or an older conf/extension.
    # It builds inside WORK (myst-nb writes a folder beside its output folder) and then replaces OUT.
    html = WORK/'html'
    for d in (html, WORK/'jupyter_execute'): shutil.rmtree(d, ignore_errors=True)
    args = ['-b', 'html', '-q', '-E', '-c', str(HERE), '-d', str(WORK/'doctrees'), str(SRC), str(html)]
    if strict: args[:0] = ['-W', '--keep-going']
    rc = build_main(args)
    if rc == 0:
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.move(str(html), str(OUT))
    print(f'build: notebooks {t1-t0:.0f} s, sphinx {time.time()-t1:.0f} s, total {time.time()-t0:.0f} s'
          f' -> {OUT.relative_to(ROOT)}/index.html' + ('' if rc == 0 else f' (sphinx exit {rc})'))
    return rc


# --- README.md ----------------------------------------------------------------------------------------------------

def readme_text() -> str:
    "README.md from the readme notebook: nbdev-processed, not executed (as `nbdev_readme`), as GitHub markdown"
    rel = Path(cfg().get('readme_nb', 'index.ipynb'))
    nb = process_nb((cfg().nbs_path/rel).absolute(), execute=False)
    page = page_name(rel)
    fm, cells = title_block(nb)
    parts = []
    if fm.get('title'): parts.append(f"# {fm['title']}")
    if fm.get('description'): parts.append(f"> {fm['description']}")
    for c in cells:
        if c.cell_type == 'markdown': parts.append(rewrite_links(_text(c.source), page, readme=True).strip())
        elif c.cell_type == 'code':
            opts, src = split_options(_text(c.source))
            if opts.get('include') == 'false': continue
            if src.strip() and opts.get('echo') != 'false': parts.append(f'```python\n{src.strip()}\n```')
            if opts.get('output') == 'false': continue
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if o.get('output_type') == 'stream': parts.append(f"```\n{_text(o.get('text')).rstrip()}\n```")
                elif 'text/markdown' in data: parts.append(rewrite_links(_text(data['text/markdown']), page, readme=True).strip())
                elif 'text/plain' in data: parts.append(f"```\n{_text(data['text/plain']).rstrip()}\n```")
    return '\n\n'.join(p for p in parts if p) + '\n'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--readme', action='store_true', help='write README.md from the index notebook (no site build)')
    p.add_argument('--check-readme', action='store_true', help='exit 1 if README.md is not what the index notebook gives')
    p.add_argument('--workers', type=int, default=min(os.cpu_count() or 1, 4), help='notebooks executed at a time')
    p.add_argument('--force', action='store_true', help='re-execute every notebook (ignore the cache in _site_build/)')
    p.add_argument('--strict', action='store_true', help='Sphinx warnings are errors')
    p.add_argument('--page', help=argparse.SUPPRESS)  # internal: build the page of one notebook, print a JSON report
    a = p.parse_args(argv)
    if a.page:
        sys.path.insert(0, str(cfg().config_path))  # as nbdev_test: the repository's library comes first
        r = run_page(Path(a.page), _lib_key(), a.force)
        print(json.dumps(r)); return 0 if r['ok'] else 1
    readme = cfg().config_path/'README.md'
    if a.readme or a.check_readme:
        text = readme_text()
        if a.readme:
            _atomic_write(readme, text); print(f'wrote {readme.relative_to(ROOT)}')
        if a.check_readme:
            cur = readme.read_text(encoding='utf-8') if readme.exists() else ''
            if cur != text:
                diff = list(difflib.unified_diff(cur.splitlines(), text.splitlines(), 'README.md (committed)',
                                                 'README.md (from nbs/index.ipynb)', lineterm='', n=1))
                print('\n'.join(diff[:40]) + ('\n...' if len(diff) > 40 else ''))
                print('README.md is out of date with nbs/index.ipynb: run `python nbs/_site/build.py --readme`')
                return 1
            print('README.md is in sync with nbs/index.ipynb')
        return 0
    return build_site(max(a.workers, 1), force=a.force, strict=a.strict)


if __name__ == '__main__': sys.exit(main())
