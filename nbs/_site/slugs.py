"""Heading anchors of the Sphinx site as on nbdev's Quarto site (conf.py loads this as a Sphinx extension).

nbdev links a name to `page.html#name` (its `_modidx`, and the links `add_links` writes), the id Pandoc gives the
heading of the name's `show_doc` entry. So: (1) headings get Pandoc's ids (`pandoc_slug`); (2) the page title takes
no anchor, since on the Quarto site the title block is not a heading: otherwise the title `Compress` would take the id
`compress` and the entry `compress` would get `compress-1`.
"""
import re, unicodedata
from docutils import nodes
from docutils.transforms import Transform


def pandoc_slug(text: str) -> str:
    "Pandoc's auto identifier: lower case; letters, digits, `_`, `-`, `.` kept; spaces to `-`; from the first letter"
    s = unicodedata.normalize('NFKC', text).lower()
    s = re.sub(r'[^\w\s.-]', '', s)
    s = re.sub(r'\s+', '-', s.strip())
    s = re.sub(r'^[^a-z]+', '', s)
    return s or 'section'


class TitleTakesNoAnchor(Transform):
    "Drop the page title's heading anchor, re-number the anchors after it, free its id for them; anchors become ids"
    default_priority = 690   # after docutils/Sphinx id assignment, before MyST's AddSlugIds (700)

    def apply(self, **kwargs):
        from myst_parser.slugs import unique_slug
        doc = self.document
        slugs = getattr(doc, 'myst_slugs', None)
        title = next(iter(doc.findall(nodes.section)), None)
        if not slugs or title is None: return
        s0 = title.get('slug')
        if s0: del title['slug']
        secs = [s for s in doc.findall(nodes.section) if s.get('slug')]
        if s0 and any(re.fullmatch(re.escape(s0) + r'-\d+', s['slug']) for s in secs):
            old = dict(slugs); slugs.clear()   # in place: the dict is also the Sphinx env's record of this page
            for s in secs:
                line, _, text = old[s['slug']]
                s['slug'] = unique_slug(pandoc_slug(text), slugs)
                slugs[s['slug']] = (line, s['ids'][0], text)
        elif s0: slugs.pop(s0, None)
        tid = title['ids'][0] if title['ids'] else None
        if tid and tid in slugs:   # the title's own id would hide the entry's anchor
            new, i = f'{tid}-title', 1
            while new in doc.ids: new, i = f'{tid}-title-{i}', i + 1
            title['ids'][0] = new
            doc.ids[new] = doc.ids.pop(tid)
            for k, v in list(doc.nameids.items()):
                if v == tid: doc.nameids[k] = new
        for sec in secs:   # the anchors as HTML ids (what MyST's AddSlugIds does; older MyST versions don't)
            sl = sec['slug']
            if not re.search(r'\s', sl) and sl not in doc.ids: sec['ids'].append(sl); doc.ids[sl] = sec


def setup(app):
    app.add_transform(TitleTakesNoAnchor)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
