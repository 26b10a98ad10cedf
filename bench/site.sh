#!/usr/bin/env bash
# bench/site.sh: islet render against jekyll build on the same site.
#
# Generates a site of POSTS posts and PAGES pages (layouts with includes,
# a post list, tags, code blocks, a footnote and a table per post), then
# builds it with `jekyll build` and `islet render` in alternation, ROUNDS
# times each, and prints wall time and peak RSS per run, the medians and
# the ratio jekyll/islet. Both outputs are checked to hold the same files.
# Then times a rebuild of the unchanged tree with `islet render --cache`
# and one after a post's text changed (ROUNDS runs each, median). The work folder is under $TMPDIR: on these VMs a
# tmpfs (TMPDIR=/dev/shm) measures the renderers, a disk measures the disk
# as much (creating 1,100 files and 1,000 folders costs 0.3-0.7 s there).
#
# SHAPE=archive makes the site a blog's instead, whose layouts loop over
# site.posts: a sidebar of recent posts and categories on every page,
# related posts under each post, an archive by year, tag and category
# pages, a paginated index (jekyll-paginate), the feed and the sitemap
# (POSTS defaults to 600 there).
#
# SRC=DIR measures an existing Jekyll source tree instead (your own
# site, or a theme's demo): nothing is generated, the tree is copied to
# the work folder, and the two outputs are compared by file list only.
# Set JEKYLL_ENV/TZ as the site needs; islet's theme gems come from the
# same places as Jekyll's.
#
# Wall times are read from bash's EPOCHREALTIME (microseconds), peak RSS
# from /usr/bin/time.
#
# Environment: ROUNDS (3), POSTS (1000; 600 for SHAPE=archive), PAGES
# (100), SHAPE (plain or archive), SRC (an existing site).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SHAPE=${SHAPE:-plain}
if [ "$SHAPE" = archive ]; then POSTS=${POSTS:-600}; fi
POSTS=${POSTS:-1000}
PAGES=${PAGES:-100}
for c in jekyll python3 /usr/bin/time; do
  command -v $c >/dev/null || { echo "bench/site.sh needs $c (apt-get install jekyll python3 time)"; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/islet" ./cmd/islet
if [ -n "${SRC:-}" ]; then
  cp -r "$SRC" "$work/src"
  rm -rf "$work/src/.jekyll-cache" "$work/src/_site"
  SHAPE="$(basename "$SRC")"
else
python3 - "$work/src" "$POSTS" "$PAGES" "$SHAPE" <<'PY'
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
PY
fi
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/jekyll.txt"; : >"$work/islet.txt"
export JEKYLL_ENV=${JEKYLL_ENV:-production}
# timed CMD...: runs CMD, prints "seconds peak-KiB"
timed() {
  local start=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$work/t" "$@" >/dev/null
  local end=$EPOCHREALTIME
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}') $(cat "$work/t")"
}
for r in $(seq "$ROUNDS"); do
  rm -rf "$work/out-j"
  read -r s kb < <(cd "$work/src" && timed jekyll build -q -d "$work/out-j" --disable-disk-cache)
  echo "$s $kb" >>"$work/jekyll.txt"; echo "round $r: jekyll build  ${s}s  $((kb / 1024)) MiB"
  rm -rf "$work/out-i"
  read -r s kb < <(cd "$work/src" && timed "$work/islet" render . "$work/out-i")
  echo "$s $kb" >>"$work/islet.txt"; echo "round $r: islet render  ${s}s  $((kb / 1024)) MiB"
done
if ! diff <(cd "$work/out-j" && find . -type f | sort) <(cd "$work/out-i" && find . -type f | sort) >/dev/null; then
  echo "the two outputs hold different files"
  [ -n "${SRC:-}" ] || exit 1
fi
files=$(cd "$work/out-i" && find . -type f | wc -l)
jt=$(cut -d' ' -f1 "$work/jekyll.txt" | median); it=$(cut -d' ' -f1 "$work/islet.txt" | median)
jm=$(cut -d' ' -f2 "$work/jekyll.txt" | median); im=$(cut -d' ' -f2 "$work/islet.txt" | median)
if [ -n "${SRC:-}" ]; then
  echo "site $SRC: $files files written by islet"
else
  echo "site ($SHAPE): $POSTS posts, $PAGES pages, $files files written by both"
fi
echo "median wall time: jekyll ${jt}s, islet ${it}s; jekyll/islet = $(awk -v a="$jt" -v b="$it" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}')"
echo "median peak RSS: jekyll $((${jm%.*} / 1024)) MiB, islet $((${im%.*} / 1024)) MiB"
"$work/islet" render --cache "$work/cache" "$work/src" "$work/out-i" >/dev/null
: >"$work/nochange.txt"
for r in $(seq "$ROUNDS"); do
  timed "$work/islet" render --cache "$work/cache" "$work/src" "$work/out-i" | cut -d' ' -f1 >>"$work/nochange.txt"
done
echo "no-change rebuild (islet render --cache): median $(median <"$work/nochange.txt")s"
[ -n "${SRC:-}" ] && exit 0
: >"$work/onepost.txt"
for r in $(seq "$ROUNDS"); do
  echo "An edit, round $r." >>"$work/src/_posts/2020-01-0$((r % 9 + 1))-post-$((r % 9)).md"
  timed "$work/islet" render --cache "$work/cache" "$work/src" "$work/out-i" | cut -d' ' -f1 >>"$work/onepost.txt"
done
echo "rebuild after one post's text changed (islet render --cache): median $(median <"$work/onepost.txt")s"
