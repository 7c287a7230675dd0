#!/usr/bin/python3
# tests/e2e/test_security.py - hostile input end to end: markup, entities,
# XML-illegal characters and javascript: URLs in every kind of input are
# never live in any output; inputs are not followed out of their roots;
# no shell-outs.
#
# Usage: test_security.py SRCDIR FAULTLIB [CASE...]
import glob
import json
import os
import re
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import html5lib

import feedcheck
import pagecheck
import sfwrap

import e2eutil

e2eutil.set_source(sys.argv[1])
FAULTLIB = os.path.abspath(sys.argv[2])
failures = []

SECRET = "SECRET-7d1e-不应出现"
# XML 1.0's Char production, inverted: what no output may hold.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

HOSTILE_CAPTURE = """• 我的订阅
  • 安全<script>alert('c')</script>

标题<script>alert(1)</script><img src=x onerror=alert(2)>]]>&lt;b&gt;&#x3C;i>\x01\x1b\ufffe\uffff

类别:安全<script>alert('c')</script>\u00a0发布时间:2025-03-01 10:00:00\u00a0来源:<a href="javascript:alert(3)" onclick="x()">晚报</a>]]>

本文转自:<iframe src="javascript:alert(4)"></iframe>

正文<script>alert(5)</script>第一段]]>,<![CDATA[x]]>,&amp;lt;script&amp;gt;,&#60;script&#62;,\x07响铃。

<img src="javascript:alert(6)" onerror="alert(7)"><svg onload=alert(8)><a href="jAvAsCrIpT:alert(9)">链接</a>

以上内容为资讯信息快照,由kz.example-snap.net爬虫进行采集并收录,本站未对信息做任何修改,信息内容不代表本站立场。

快照生成时间:2025-03-01 12:00:00

信息原文地址:javascript:alert(10)
"""

HOSTILE_PAGE = """<!DOCTYPE html [
  <!ENTITY secret SYSTEM "file://{secret}">
  <!ENTITY boom "&secret;&secret;&secret;">
]>
<html><head><meta charset="utf-8">
<title>实体测试&secret;</title>
<meta property="og:title" content="实体测试&boom;<script>alert(11)</script>">
<meta property="og:url" content="javascript:alert(12)">
<meta property="article:published_time" content="2025-03-02T08:00:00+08:00">
<meta property="article:section" content="安全">
</head><body onload="alert(13)">
<article><h1>实体测试</h1>
<p>第一段正文,引用了 &secret; 与 &boom; 两个实体。<script>alert(14)</script></p>
<p onmouseover="alert(15)">第二段正文,还有<a href="javascript:alert(16)">一个链接</a>。</p>
<p>第三段正文,足够长以便被当作文章的主体内容来读取和显示在页面上面。</p>
</article></body></html>
"""

HOSTILE_JSONL = json.dumps({
    "title": "记录<script>alert(17)</script>]]>\u0002",
    "category": "安全",
    "published": "2025-03-03 09:00",
    "source": "<img src=x onerror=alert(18)>",
    "url": "javascript:alert(19)",
    "body": ["<svg onload=alert(20)>正文", "&#x3C;script&#x3E;alert(21)&#x3C;/script&#x3E;"],
}, ensure_ascii=False) + "\n"


def bad_urls(urls):
    return [u for u in urls if u and urllib.parse.urlsplit(u.strip()).scheme.lower()
            not in ("", "http", "https")]


def check_html_fragment(where, html):
    """Parses html as a browser would; no script, handler or script URL."""
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    for el in doc.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.lower() in ("script", "iframe", "object", "embed", "svg", "base", "form"):
            failures.append(f"{where}: live <{tag}>")
        for k, v in el.attrib.items():
            if k.lower().startswith("on"):
                failures.append(f"{where}: live {k}= on <{tag}>")
            if k.lower() in ("href", "src", "action", "formaction", "xlink:href") and bad_urls([v]):
                failures.append(f"{where}: <{tag} {k}={v!r}>")


# Elements of the feeds whose text a reader renders as HTML.
HTML_TEXT = {"description", "{http://purl.org/rss/1.0/modules/content/}encoded"}


def check_xml(rel, path):
    feedcheck.xmllint(path, failures)
    root = ET.parse(path).getroot()
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local.lower() == "script" or any(k.lower().startswith("on") for k in el.attrib):
            failures.append(f"{rel}: live markup in the XML itself: <{el.tag}>")
        if el.get("href") is not None and bad_urls([el.get("href")]):
            failures.append(f"{rel}: <{local} href={el.get('href')!r}>")
        if local in ("link", "id", "guid", "url") and el.text and bad_urls([el.text]):
            if not (local in ("id", "guid") and el.text.startswith(("urn:", "tag:"))):
                failures.append(f"{rel}: <{local}>{el.text}</{local}>")
        html = el.tag in HTML_TEXT or (local in ("content", "summary", "subtitle", "title")
                                       and el.get("type") == "html")
        if html and el.text:
            check_html_fragment(f"{rel} <{local}>", el.text)


def check_json(rel, path):
    with open(path, encoding="utf-8") as f:
        feed = json.load(f)
    urls = [feed.get("home_page_url"), feed.get("feed_url")]
    for it in feed.get("items", []):
        urls += [it.get("url"), it.get("external_url")]
        urls += [it.get("_snapfeed", {}).get("archive_url")]
        # summary and content_text are plain text by JSON Feed's spec
        if it.get("content_html"):
            check_html_fragment(f"{rel} {it['id']} content_html", it["content_html"])
    for u in bad_urls(urls):
        failures.append(f"{rel}: URL {u!r}")


def check_tree(out):
    """Every output file: UTF-8, no XML-illegal character, no secret, and
    by its kind no live markup."""
    n = 0
    for path in sorted(glob.glob(os.path.join(out, "**", "*"), recursive=True)):
        if not os.path.isfile(path):
            continue
        rel = os.path.relpath(path, out)
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="surrogateescape")
        if ILLEGAL.search(text):
            failures.append(f"{rel}: XML-illegal character {ILLEGAL.search(text).group()!r}")
        if SECRET in text:
            failures.append(f"{rel}: holds the local file an entity named")
        if rel.endswith((".xml", ".opml")):
            check_xml(rel, path)
        elif rel.endswith(".json"):
            check_json(rel, path)
        elif rel.endswith(".html"):
            pagecheck.check_page(out, path, failures, tidy=False)
            check_html_fragment(rel, text)
        n += 1
    return n


def case_markup(tmp):
    """A capture, a saved page and a JSON Lines record full of markup,
    CDATA ends, entity references, an external entity, a DOCTYPE, control
    characters, non-characters and javascript: URLs: every output parses,
    and nothing in it is live or illegal; the markup survives as text."""
    secret = os.path.join(tmp, "secret.txt")
    with open(secret, "w", encoding="utf-8") as f:
        f.write(SECRET + "\n")
    caps, pages, jl = (os.path.join(tmp, d) for d in ("caps", "pages", "jl"))
    for d in (caps, pages, jl):
        os.makedirs(d)
    with open(os.path.join(caps, "hostile.txt"), "w", encoding="utf-8") as f:
        f.write(HOSTILE_CAPTURE)
    # a UTF-8-encoded surrogate half (ED A0 80) and a raw C1 byte
    with open(os.path.join(caps, "surrogate.txt"), "wb") as f:
        f.write(HOSTILE_CAPTURE.replace("标题", "代理\ud800项", 1)
                .encode("utf-8", errors="surrogatepass"))
    with open(os.path.join(pages, "entity.html"), "w", encoding="utf-8") as f:
        f.write(HOSTILE_PAGE.replace("{secret}", secret))
    with open(os.path.join(jl, "hostile.jsonl"), "w", encoding="utf-8") as f:
        f.write(HOSTILE_JSONL)
    cfg = os.path.join(tmp, "feeds.yaml")
    out = os.path.join(tmp, "out")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("site: {title: '安全<script>', base_url: 'https://sec.example/'}\n"
                f"inputs:\n  - path: {caps}\n  - {{path: {pages}, format: html}}\n"
                f"  - {{path: {jl}, format: jsonl}}\n"
                f"output: {{dir: {out}, state_dir: {os.path.join(tmp, 'state')}}}\n")
    p = sfwrap.run(["build", "-q", "-c", cfg])
    surrogate = os.path.join(caps, "surrogate.txt")
    errors = [line for line in p.stderr.splitlines() if "warning" not in line]
    if p.returncode != 3 or len(errors) != 1 or surrogate not in errors[0]:
        failures.append(f"hostile build: exit {p.returncode}, {p.stderr!r}")
    n = check_tree(out)
    with open(os.path.join(out, "all", "feed.json"), encoding="utf-8") as f:
        items = json.load(f)["items"]
    titles = [it["title"] for it in items]
    if len(items) != 3 or not any("<script>alert(1)</script>" in t for t in titles):
        failures.append(f"the markup did not survive as text: {titles}")
    if not any("实体测试" in t for t in titles):
        failures.append(f"the saved page is missing: {titles}")
    print(f"markup: {n} files checked")


def case_input_links(tmp):
    """A link inside an input to a file or directory outside it is not
    read unless follow_symlinks says so; a capture swapped for such a link
    between the two passes is not read through it; the configured path
    itself may be a link."""
    outside = os.path.join(tmp, "outside")
    os.makedirs(os.path.join(outside, "dir"))
    with open(os.path.join(e2eutil.CAPTURES, "hostile-script.txt"), encoding="utf-8") as f:
        template = f.read()
    secret_capture = template.replace("警方提醒:谨防“<script>”式钓鱼链接", SECRET)
    for p in (os.path.join(outside, "secret.txt"), os.path.join(outside, "dir", "s.txt")):
        with open(p, "w", encoding="utf-8") as f:
            f.write(secret_capture)
    inp = os.path.join(tmp, "in")
    e2eutil.copy_captures(inp, ["hostile-script.txt", "url-javascript.txt"])
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(inp, "link.txt"))
    os.symlink(os.path.join(outside, "dir"), os.path.join(inp, "linkdir"))
    out = os.path.join(tmp, "out")
    for follow in (False, True):
        cfg = e2eutil.config_for(tmp, inp)
        if follow:
            with open(cfg, encoding="utf-8") as f:
                text = f.read().replace("  - path: " + inp,
                                        "  - path: " + inp + "\n    follow_symlinks: true")
            with open(cfg, "w", encoding="utf-8") as f:
                f.write(text)
        p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out, "--no-manifest"])
        found = any(SECRET in open(f, encoding="utf-8").read()
                    for f in glob.glob(os.path.join(out, "all", "*.xml")))
        if p.returncode not in (0, 3) or p.stderr.strip() or found != follow:
            failures.append(f"links in the input, follow_symlinks {follow}: exit "
                            f"{p.returncode}, read outside {found}, {p.stderr!r}")
        with open(os.path.join(out, "all", "feed.json"), encoding="utf-8") as f:
            n = sum(SECRET in it["title"] for it in json.load(f)["items"])
        if follow and n != 1:
            failures.append(f"follow_symlinks: the linked captures gave {n} items (2 links, "
                            "one article)")
    # swapped between the passes: the second opening meets a link
    cfg = e2eutil.config_for(tmp, inp)
    env = {"LD_PRELOAD": FAULTLIB,
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0",
           "SF_FAULT_SWAP": f"hostile-script.txt:2:{os.path.join(outside, 'secret.txt')}"}
    out = os.path.join(tmp, "out-swapped")
    p = sfwrap.run(["build", "-c", cfg, "-o", out, "--no-manifest"], env=env, wrap=False)
    text = "".join(open(f, encoding="utf-8").read()
                   for f in glob.glob(os.path.join(out, "**", "*.*"), recursive=True))
    if not text:
        failures.append("swapped for a link: no output")
    if SECRET in text or "hostile-script.txt: warning: changed while being read" not in p.stderr:
        failures.append(f"swapped for a link: exit {p.returncode}, {p.stderr!r}")
    # the configured path itself a link, to a directory and to a file
    os.symlink(inp, os.path.join(tmp, "in-link"))
    os.unlink(os.path.join(inp, "hostile-script.txt"))
    e2eutil.copy_captures(inp, ["hostile-script.txt"])
    for target in (os.path.join(tmp, "in-link"), os.path.join(tmp, "in-link", "url-javascript.txt")):
        cfg = e2eutil.config_for(tmp, target)
        p = sfwrap.run(["build", "-q", "-c", cfg, "-o", os.path.join(tmp, "out2")])
        if p.returncode not in (0, 3) or p.stderr.strip():
            failures.append(f"configured input {target} a link: exit {p.returncode}, {p.stderr!r}")


# Functions that start programs; snapfeed starts none.
SPAWN = ["system", "popen", "fork", "vfork", "posix_spawn", "posix_spawnp", "execl",
         "execlp", "execle", "execv", "execvp", "execvpe", "execve", "fexecve", "wordexp"]


def case_no_shell(tmp):
    """No source calls and the binary imports no function that starts a
    program."""
    pattern = re.compile(r"\b(" + "|".join(SPAWN) + r")\s*\(")
    for path in sorted(glob.glob(os.path.join(e2eutil.SRC, "src", "*.[ch]"))):
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if pattern.search(line.split("//")[0]) and not line.lstrip().startswith("*"):
                    failures.append(f"{os.path.relpath(path, e2eutil.SRC)}:{i}: {line.strip()}")
    p = subprocess.run(["nm", "-D", "--undefined-only", sfwrap.SNAPFEED], capture_output=True,
                       text=True, timeout=60, check=True)
    imported = {line.split()[-1].split("@")[0] for line in p.stdout.splitlines()}
    if not imported:
        failures.append("nm found no imports")
    if imported & set(SPAWN):
        failures.append(f"snapfeed imports {sorted(imported & set(SPAWN))}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return e2eutil.run_cases(CASES, failures, sys.argv[3:], "sf-security-")


if __name__ == "__main__":
    sys.exit(main())
