# tests/e2e/pagecheck.py - what the end-to-end tests check the browsable
# pages with: html5lib's strict HTML5 parser, Debian's tidy, and checks of
# our own (lang, charset, one title, no duplicate id, no script, every
# link resolving); and that every item link of every feed leads somewhere.
import html.parser
import json
import os
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import html5lib

BASE = "https://news.example.org/"
FEED_FILES = ("rss.xml", "atom.xml", "feed.json")
ATOM = "{http://www.w3.org/2005/Atom}"


class Page(html.parser.HTMLParser):
    """The facts of one page the checks need, from Python's own
    tokenizer (independent of libxml2, which wrote the page)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.doctype = None
        self.first_tag = None
        self.lang = None
        self.charset_first = False
        self.titles = []
        self.in_title = False
        self.ids = []
        self.links = []         # (tag, attribute, value)
        self.scripts = 0
        self.handlers = []
        self.head_tags = []
        self.in_head = False

    def handle_decl(self, decl):
        if self.first_tag is None:
            self.doctype = decl

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.first_tag is None:
            self.first_tag = tag
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "head":
            self.in_head = True
        elif self.in_head:
            self.head_tags.append((tag, a))
        if tag == "title":
            self.in_title = True
            self.titles.append("")
        if tag == "script":
            self.scripts += 1
        for k, v in attrs:
            if k == "id":
                self.ids.append(v)
            if k.startswith("on"):
                self.handlers.append(k)
            if k in ("href", "src"):
                self.links.append((tag, k, v))

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "head":
            self.in_head = False

    def handle_data(self, data):
        if self.in_title:
            self.titles[-1] += data


def local_target(out, page_dir, href):
    """The file in out that relative href from page_dir names, or None
    when it leaves out."""
    parts = urllib.parse.urlsplit(href)
    path = urllib.parse.unquote(parts.path)
    target = os.path.normpath(os.path.join(page_dir, path))
    if os.path.isdir(target):
        target = os.path.join(target, "index.html")
    if not (target + "/").startswith(os.path.normpath(out) + "/"):
        return None
    return target


def check_page(out, path, failures, tidy=True):
    rel = os.path.relpath(path, out)
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        failures.append(f"{rel}: not UTF-8: {e}")
        return
    # html5lib in strict mode raises on the first HTML5 parse error.
    try:
        html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)
    except html5lib.html5parser.ParseError as e:
        failures.append(f"{rel}: HTML5 parse error: {e}")
    if tidy:
        p = subprocess.run(["tidy", "-q", "-e", "-utf8", "--gnu-emacs", "yes", path],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0 or p.stderr.strip():
            failures.append(f"{rel}: tidy: {p.stderr.strip()[:500]}")
    pg = Page()
    pg.feed(text)
    pg.close()
    if pg.doctype is None or pg.doctype.lower() != "doctype html":
        failures.append(f"{rel}: doctype {pg.doctype!r}")
    if not pg.lang:
        failures.append(f"{rel}: no lang on <html>")
    if not pg.head_tags or pg.head_tags[0] != ("meta", {"charset": "utf-8"}):
        failures.append(f"{rel}: <meta charset=\"utf-8\"> is not first in <head>")
    if len(pg.titles) != 1 or not pg.titles[0].strip():
        failures.append(f"{rel}: titles {pg.titles}")
    dup = {i for i in pg.ids if pg.ids.count(i) > 1}
    if dup:
        failures.append(f"{rel}: duplicate ids {sorted(dup)}")
    if pg.scripts or pg.handlers:
        failures.append(f"{rel}: script ({pg.scripts} elements, handlers {pg.handlers})")
    if not any(t == "link" and a.get("rel") == "stylesheet" for t, a in pg.head_tags):
        failures.append(f"{rel}: no stylesheet")
    for tag, attr, href in pg.links:
        scheme = urllib.parse.urlsplit(href).scheme
        if scheme in ("http", "https"):
            continue
        if scheme:
            failures.append(f"{rel}: <{tag} {attr}={href!r}>: scheme {scheme}")
            continue
        target = local_target(out, os.path.dirname(path), href)
        if target is None or not os.path.isfile(target):
            failures.append(f"{rel}: <{tag} {attr}={href!r}> does not resolve")
    return pg


def check_pages(out, failures, tidy=True):
    """Every page in out; returns the number checked."""
    n = 0
    for dirpath, dirs, names in os.walk(out):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in sorted(names):
            if name.endswith(".html"):
                check_page(out, os.path.join(dirpath, name), failures, tidy)
                n += 1
    return n


def feed_item_links(path):
    """(id, link) of every item of one feed file."""
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            return [(i["id"], i.get("url")) for i in json.load(f)["items"]]
    root = ET.parse(path).getroot()
    if root.tag == "rss":
        return [(i.findtext("guid"), i.findtext("link")) for i in root.iter("item")]
    links = []
    for e in root.iter(ATOM + "entry"):
        alt = [x.get("href") for x in e.findall(ATOM + "link") if x.get("rel") == "alternate"]
        links.append((e.findtext(ATOM + "id"), alt[0] if alt else None))
    return links


def check_item_links(out, failures, base=BASE, pages=True):
    """Every item of every feed has a link (with pages on) that is either
    an absolute URL off this site (the original) or a file in out."""
    n = 0
    for slug in sorted(os.listdir(out)):
        for name in FEED_FILES:
            path = os.path.join(out, slug, name)
            if not os.path.isfile(path):
                continue
            for item_id, link in feed_item_links(path):
                n += 1
                where = f"{slug}/{name}: {item_id}"
                if link is None:
                    if pages:
                        failures.append(f"{where}: no link")
                    continue
                if not link.startswith(("http://", "https://")):
                    failures.append(f"{where}: link {link!r} is not absolute")
                elif link.startswith(base):
                    target = local_target(out, out, link[len(base):])
                    if target is None or not os.path.isfile(target):
                        failures.append(f"{where}: link {link} names no file of the output")
                    elif not pages:
                        failures.append(f"{where}: an archive page link with pages off")
    return n
