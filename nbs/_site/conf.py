# Sphinx configuration of the offline documentation site; `python nbs/_site/build.py` runs Sphinx with it on the
# notebooks nbdev has processed (see build.py). Project facts come from settings.ini, like nbdev's nbdev.yml.
import sys
from pathlib import Path
from configparser import ConfigParser

_ini = ConfigParser(); _ini.read(Path(__file__).resolve().parents[2]/'settings.ini')
_c = _ini['DEFAULT']

project = _c['title']
author = _c['author']
copyright = _c['copyright']
release = version = _c['version']
html_title = f"{_c['title']} {_c['version']}"
html_baseurl = _c['doc_host'].rstrip('/') + _c['doc_baseurl']

exclude_patterns = ['**.ipynb_checkpoints']
root_doc = 'index'
language = 'en'

# Notebooks arrive executed and processed by nbdev: never run them again here.
nb_execution_mode = 'off'
nb_output_stderr = 'show'
nb_merge_streams = True
nb_render_markdown_format = 'myst'   # markdown outputs (e.g. a Plan's table) get the same MyST extensions
myst_enable_extensions = ['attrs_inline', 'attrs_block', 'colon_fence', 'dollarmath', 'amsmath']
myst_heading_anchors = 4


sys.path.insert(0, str(Path(__file__).resolve().parent))
# slugs: headings get Pandoc's ids and the page title none, as on nbdev's Quarto site (nbdev's links expect them)
# githubpages: .nojekyll for a gh-pages branch
extensions = ['myst_nb', 'slugs', 'sphinx.ext.githubpages']
myst_heading_slug_func = 'slugs.pandoc_slug'
suppress_warnings = ['myst.header']   # show_doc entries are ### headings under a # or ## heading

html_theme = 'furo'
html_static_path = ['_static']
html_css_files = ['site.css']
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    'source_repository': _c['git_url'] + '/',
    'source_branch': _c['branch'],
    'source_directory': _c['nbs_path'] + '/',
    'navigation_with_keys': True,
}
pygments_style = 'default'
pygments_dark_style = 'monokai'
