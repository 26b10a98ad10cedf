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
python3 bench/gensite.py "$work/src" "$POSTS" "$PAGES" "$SHAPE"
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
