#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""configure-metainfo.py INPUT OUTPUT WEB_URL: the metainfo source with the project's web address.

The screenshots and the homepage are only claimed where they really are: with WEB_URL set
(meson option web_url), the homepage is WEB_URL and each <image> is WEB_URL/screenshots/NAME.png,
the pictures `khuyenhoc --screenshots DIR` and the English UI test save (overview.png,
scholarships.png, sync.png). With WEB_URL empty, the <screenshots> and <url> elements are left
out rather than pointing at an address nobody serves.
"""
import re
import sys

source, output, web_url = sys.argv[1], sys.argv[2], sys.argv[3].rstrip('/')

with open(source, encoding='utf-8') as f:
    text = f.read()

if web_url:
    if not re.match(r'^https?://[^/\s]+', web_url):
        sys.exit(f'configure-metainfo.py: web_url must be an http(s) address, not “{web_url}”')
    text = text.replace('@WEB_URL@', web_url)
else:
    text = re.sub(r'\n[ \t]*<screenshots>.*?</screenshots>', '', text, flags=re.S)
    text = re.sub(r'\n[ \t]*<url type="[a-z-]+">@WEB_URL@[^<]*</url>', '', text)
if '@WEB_URL@' in text:
    sys.exit('configure-metainfo.py: a @WEB_URL@ was left in the metainfo')

with open(output, 'w', encoding='utf-8') as f:
    f.write(text)
