#!/usr/bin/env python3
# bench/gensite.py SRC POSTS PAGES SHAPE: writes a generated Jekyll site
# into SRC, as bench/site.sh and bench/livereload.sh measure it (see
# bench/site.sh for the shapes: plain or archive).
import os, random, sys, datetime
src, posts, pages, shape = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
random.seed(7)
words = "islet serves dns and https from one small appliance built in go with zones sites and certificates".split()
def para(n=40): return " ".join(random.choice(words) for _ in range(n)).capitalize() + "."
def w(path, text):
    p = os.path.join(src, path); os.makedirs(os.path.dirname(p), exist_ok=True); open(p, "w").write(text)
w("_config.yml", "title: Bench\nurl: https://example.org\ntime: 2024-06-01 12:00:00 +0000\ntimezone: UTC\n"
  "defaults:\n  - scope: {path: '', type: posts}\n    values: {layout: post}\n  - scope: {path: ''}\n    values: {layout: default}\n")
w("_layouts/default.html", "<!DOCTYPE html><html><head>{% include head.html %}</head><body>{% include nav.html %}<main>{{ content }}</main>"
  "<footer>{{ site.time | date: '%Y' }} {{ site.title }}</footer></body></html>\n")
w("_layouts/post.html", "---\nlayout: default\n---\n<article><h1>{{ page.title | escape }}</h1><time>{{ page.date | date_to_long_string }}</time>"
  "<p>{% for t in page.tags %}<a href=\"{{ '/tags/' | relative_url }}#{{ t | slugify }}\">{{ t }}</a> {% endfor %}</p>{{ content }}"
  "{% if page.previous %}<a href=\"{{ page.previous.url | relative_url }}\">{{ page.previous.title }}</a>{% endif %}</article>\n")
w("_includes/head.html", "<meta charset=\"utf-8\"><title>{% if page.title %}{{ page.title | escape }} | {% endif %}{{ site.title }}</title>"
  "<link rel=\"canonical\" href=\"{{ page.url | absolute_url }}\">\n")
w("_includes/nav.html", "<nav>{% for p in site.html_pages limit: 10 %}<a href=\"{{ p.url | relative_url }}\">{{ p.title }}</a>{% endfor %}</nav>\n")
w("index.html", "---\ntitle: Home\n---\n<ul>{% for post in site.posts limit: 50 %}<li><a href=\"{{ post.url | relative_url }}\">{{ post.title }}</a>"
  " {{ post.excerpt | strip_html | truncatewords: 20 }}</li>{% endfor %}</ul>\n")
w("tags.html", "---\ntitle: Tags\npermalink: /tags/\n---\n{% for tag in site.tags %}<h2 id=\"{{ tag[0] | slugify }}\">{{ tag[0] }}</h2><ul>"
  "{% for post in tag[1] %}<li>{{ post.title }}</li>{% endfor %}</ul>{% endfor %}\n")
if shape == "archive":
    w("_config.yml", "title: Bench\nurl: https://example.org\ntime: 2024-06-01 12:00:00 +0000\ntimezone: UTC\n"
      "plugins: [jekyll-feed, jekyll-sitemap, jekyll-paginate]\npaginate: 10\npaginate_path: /page:num/\n"
      "defaults:\n  - scope: {path: '', type: posts}\n    values: {layout: post}\n  - scope: {path: ''}\n    values: {layout: default}\n")
    w("_layouts/default.html", "<!DOCTYPE html><html><head>{% include head.html %}</head><body>{% include nav.html %}<main>{{ content }}</main>"
      "<aside><h2>Recent</h2><ul>{% for p in site.posts limit: 10 %}<li><a href=\"{{ p.url | relative_url }}\">{{ p.title }}</a> "
      "{{ p.date | date: '%b %-d, %Y' }}</li>{% endfor %}</ul><h2>Categories</h2><ul>{% for c in site.categories %}"
      "<li><a href=\"{{ '/categories/' | relative_url }}#{{ c[0] | slugify }}\">{{ c[0] }}</a> ({{ c[1] | size }})</li>{% endfor %}</ul></aside>"
      "<footer>{{ site.time | date: '%Y' }} {{ site.title }}</footer></body></html>\n")
    w("_layouts/post.html", "---\nlayout: default\n---\n<article><h1>{{ page.title | escape }}</h1><time>{{ page.date | date_to_long_string }}</time>"
      "<p>{% for t in page.tags %}<a href=\"{{ '/tags/' | relative_url }}#{{ t | slugify }}\">{{ t }}</a> {% endfor %}</p>{{ content }}"
      "<h2>Related</h2><ul>{% for p in site.related_posts limit: 3 %}<li><a href=\"{{ p.url | relative_url }}\">{{ p.title }}</a></li>{% endfor %}</ul>"
      "{% if page.previous %}<a href=\"{{ page.previous.url | relative_url }}\">{{ page.previous.title }}</a>{% endif %}"
      "{% if page.next %}<a href=\"{{ page.next.url | relative_url }}\">{{ page.next.title }}</a>{% endif %}</article>\n")
    w("index.html", "---\ntitle: Home\n---\n{% for post in paginator.posts %}<h2><a href=\"{{ post.url | relative_url }}\">{{ post.title }}</a></h2>"
      "{{ post.excerpt }}{% endfor %}{% if paginator.next_page %}<a href=\"{{ paginator.next_page_path | relative_url }}\">Older</a>{% endif %}\n")
    w("archive.html", "---\ntitle: Archive\npermalink: /archive/\n---\n{% assign years = site.posts | group_by_exp: 'p', \"p.date | date: '%Y'\" %}"
      "{% for y in years %}<h2>{{ y.name }}</h2><ul>{% for p in y.items %}<li>{{ p.date | date: '%b %d' }} "
      "<a href=\"{{ p.url | relative_url }}\">{{ p.title }}</a></li>{% endfor %}</ul>{% endfor %}\n")
    w("categories.html", "---\ntitle: Categories\npermalink: /categories/\n---\n{% for c in site.categories %}<h2 id=\"{{ c[0] | slugify }}\">{{ c[0] }}</h2><ul>"
      "{% for p in c[1] %}<li><a href=\"{{ p.url | relative_url }}\">{{ p.title }}</a></li>{% endfor %}</ul>{% endfor %}\n")
day = datetime.date(2020, 1, 1)
for i in range(posts):
    d = day + datetime.timedelta(days=i)
    tags = " ".join(random.sample(words, 3))
    cats = f"categories: [{random.choice(words)}]\n" if shape == "archive" else ""
    w(f"_posts/{d.isoformat()}-post-{i}.md", f"---\ntitle: Post {i} about {random.choice(words)}\ntags: [{', '.join(tags.split())}]\n{cats}---\n"
      f"{para()}\n\n## Details\n\n{para(80)} See the note.[^n]\n\n```go\npackage main\n\nfunc main() {{\n\tprintln(\"post {i}\")\n}}\n```\n\n"
      f"| a | b |\n|---|--:|\n| {i} | {i*2} |\n\n- one *{random.choice(words)}*\n- two `code`\n\n[^n]: A footnote for post {i}.\n")
for i in range(pages):
    w(f"pages/page-{i}.md", f"---\ntitle: Page {i}\n---\n# Page {i}\n\n{para(120)}\n\n{para(60)}\n")
