#!/usr/bin/env python3
"""Writes the essay pages `citebot add` is measured on beside the shared
page set (docs/corpus.md, "Adding essays"): each a folder with source.html,
expected.html and expected-metadata.json, in the layout
examples/measure_add.rs reads.

- two op-eds: the seed pages of tests/fixtures/pages, expected = corpus/;
- a blog essay: Emerson's "Circles" served as a blog post with a sidebar,
  comments and a newsletter box;
- a Gutenberg HTML chapter: Federalist No. 10 with Project Gutenberg's
  header, table of contents and licence.

Usage: python3 scripts/add_pages.py OUT_DIR   (run from the repository)
"""
import html, json, os, sys

out = sys.argv[1]
shared = '../shared/corpora'
esc = lambda s: html.escape(s, quote=True)


def essay(path):
    text = open(path, encoding='utf-8').read()
    front, body = text.split('+++\n', 2)[1:]
    meta = {}
    for line in front.splitlines():
        if ' = ' in line and not line.startswith('tags'):
            k, v = line.split(' = ', 1)
            meta[k] = json.loads(v)
    paras = [p.strip() for p in body.split('\n\n') if p.strip() and not p.startswith('#')]
    return meta, paras


def write(name, source, meta, paras, published=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'source.html'), 'w', encoding='utf-8').write(source)
    expected = '<html><body>' + ''.join('<p>%s</p>' % esc(p) for p in paras) + '</body></html>'
    open(os.path.join(d, 'expected.html'), 'w', encoding='utf-8').write(expected)
    json.dump({'title': meta.get('title'), 'byline': meta.get('author'),
               'siteName': meta.get('publication'), 'publishedTime': published},
              open(os.path.join(d, 'expected-metadata.json'), 'w'))


for name, date in [('shirk-time-2022', '2022-10-14'), ('romberg-thehill-2014', '2014-11-10')]:
    meta, paras = essay('corpus/%s.md' % name)
    write(name, open('tests/fixtures/pages/%s.html' % name, encoding='utf-8').read(), meta, paras, date)

meta, paras = essay(shared + '/essays/emerson-circles.md')
blog = '''<!DOCTYPE html><html><head><meta charset="utf-8"><title>%(t)s – Old Essays Weekly</title>
<meta property="og:site_name" content="Old Essays Weekly"><meta property="og:title" content="%(t)s">
<meta name="author" content="Ralph Waldo Emerson"><link rel="canonical" href="https://oldessays.example.org/circles/">
</head><body><div class="wrapper"><header><h2 class="site-title"><a href="/">Old Essays Weekly</a></h2>
<nav><a href="/">Home</a> <a href="/archive/">Archive</a> <a href="/about/">About</a></nav></header>
<div class="content"><article class="post"><h1 class="post-title">%(t)s</h1>
<p class="post-meta">Posted by <a href="/authors/emerson/">Ralph Waldo Emerson</a> in <a href="/tag/essays/">Essays</a></p>
<div class="entry-content">%(body)s</div>
<div class="share">Share this: <a href="#">Twitter</a> <a href="#">Facebook</a> <a href="#">Email</a></div>
</article>
<section id="comments"><h3>3 Responses</h3><ol class="commentlist">
<li class="comment"><p class="comment-author">reader42</p><p>What a wonderful essay, thank you for posting it.</p></li>
<li class="comment"><p class="comment-author">j.m.</p><p>The opening line about the eye being the first circle stays with me.</p></li>
<li class="comment"><p class="comment-author">anon</p><p>Does anyone know which edition this text comes from?</p></li></ol>
<form class="comment-form"><textarea></textarea><button>Post Comment</button></form></section></div>
<aside class="sidebar"><div class="widget"><h3>Recent Posts</h3><ul><li><a href="/self-reliance/">Self-Reliance</a></li>
<li><a href="/compensation/">Compensation</a></li><li><a href="/history/">History</a></li></ul></div>
<div class="widget"><h3>Subscribe</h3><p>Get new essays by email every week.</p><form><input type="email"><button>Subscribe</button></form></div></aside>
<footer><p>Powered by a blog engine. Theme by someone.</p></footer></div></body></html>''' % {
    't': esc(meta['title']), 'body': ''.join('<p>%s</p>\n' % esc(p) for p in paras)}
write('blog-emerson-circles', blog, {'title': meta['title'], 'author': 'Ralph Waldo Emerson',
                                     'publication': 'Old Essays Weekly'}, paras)

meta, paras = essay(shared + '/federalist/federalist-10.md')
gut = '''<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>The Project Gutenberg eBook of The Federalist Papers, by Alexander Hamilton, John Jay, and James Madison</title>
<meta name="dc.title" content="The Federalist Papers"><meta name="dc.creator" content="Hamilton, Alexander">
<meta name="dc.language" content="en"></head><body>
<section class="pg-boilerplate pgheader" id="pg-header"><h2 id="pg-header-heading">The Project Gutenberg eBook of The Federalist Papers</h2>
<div>This ebook is for the use of anyone anywhere in the United States and most other parts of the world at no cost and with almost no restrictions whatsoever. You may copy it, give it away or re-use it under the terms of the Project Gutenberg License included with this ebook or online at www.gutenberg.org.</div>
<p>Title: The Federalist Papers</p><p>Author: Alexander Hamilton, John Jay, James Madison</p><p>Release date: December 1, 1998 [eBook #1404]</p>
<div>*** START OF THE PROJECT GUTENBERG EBOOK THE FEDERALIST PAPERS ***</div></section>
<div class="chapter"><h2><a id="link2H_4_0010"></a>FEDERALIST No. 10</h2>
<h3>The Same Subject Continued (The Union as a Safeguard Against Domestic Faction and Insurrection)</h3>
<p class="center">From the New York Packet.<br>Friday, November 23, 1787.</p><p>MADISON</p><p>To the People of the State of New York:</p>
%(body)s<p>PUBLIUS.</p></div>
<section class="pg-boilerplate pgfooter" id="pg-footer"><div>*** END OF THE PROJECT GUTENBERG EBOOK THE FEDERALIST PAPERS ***</div>
<div>Updated editions will replace the previous one—the old editions will be renamed. Creating the works from print editions not protected by U.S. copyright law means that no one owns a United States copyright in these works, so the Foundation (and you!) can copy and distribute it in the United States without permission and without paying copyright royalties.</div>
<h2>THE FULL PROJECT GUTENBERG LICENSE</h2><p>To protect the Project Gutenberg mission of promoting the free distribution of electronic works, by using or distributing this work (or any other work associated in any way with the phrase "Project Gutenberg"), you agree to comply with all the terms of the Full Project Gutenberg License available with this file or online at www.gutenberg.org/license.</p></section>
</body></html>''' % {'body': ''.join('<p>%s</p>\n' % esc(p) for p in paras)}
write('gutenberg-federalist-10', gut, {'title': 'The Federalist Papers', 'author': 'Hamilton, Alexander'}, paras)
