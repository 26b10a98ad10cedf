#!/usr/bin/env bash
# bench/livereload.sh: the writing loop, end to end, islet run against
# jekyll serve --livereload --incremental on the same generated site
# (bench/gensite.py: POSTS posts, PAGES pages). internal/livebench opens
# a post in headless Chromium, writes a new token into a source file and
# times until the page shows it: from the file written to the browser
# showing the new content, ROUNDS times per edit. Two edits: one post's
# text, and the default layout (every page rendered again).
#
# Needs chromium, jekyll and ruby-em-websocket (jekyll's live reload).
# Environment: POSTS (1000), PAGES (100), ROUNDS (7), JROUNDS (3, for
# jekyll, whose rebuilds take seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
POSTS=${POSTS:-1000}
PAGES=${PAGES:-100}
ROUNDS=${ROUNDS:-7}
JROUNDS=${JROUNDS:-3}
for c in chromium jekyll python3 curl; do
  command -v $c >/dev/null || { echo "bench/livereload.sh needs $c (apt-get install chromium jekyll ruby-em-websocket python3 curl)"; exit 1; }
done
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/islet" ./cmd/islet
go build -o "$work/livebench" ./internal/livebench
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$work/app/zones"
python3 bench/gensite.py "$work/app/site" "$POSTS" "$PAGES" plain
printf 'site: site/\nhosts:\n  - names: [bench.example]\n    site: true\n' > "$work/app/islet.yml"
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 127.0.0.1\n' > "$work/app/zones/bench.example"
cp -r "$work/app/site" "$work/jsite"
post=$(ls "$work/app/site/_posts" | tail -1)
url_path=$(echo "$post" | sed -E 's|^([0-9]{4})-([0-9]{2})-([0-9]{2})-(.*)\.md$|/\1/\2/\3/\4.html|')
echo "== $POSTS posts, $PAGES pages; the page: $url_path"

measure() { # NAME URL SITE-DIR ROUNDS
  echo "$1, one post's text:"
  "$work/livebench" -url "$2$url_path" -file "$3/_posts/$post" -rounds "$4" | sed 's/^/  /'
  echo "$1, the layout (every page rendered again):"
  "$work/livebench" -url "$2$url_path" -file "$3/_layouts/default.html" -before "</main>" -rounds "$4" | sed 's/^/  /'
}

hp=$(port)
"$work/islet" run "$work/app" --dns "127.0.0.1:$(port)" --https "127.0.0.1:$hp" --http "" --log-level warn > "$work/islet.log" 2>&1 &
pids+=("$!")
until curl -sk -o /dev/null --resolve "bench.example:$hp:127.0.0.1" "https://bench.example:$hp/"; do sleep 0.2; done
measure "islet run" "https://bench.example:$hp" "$work/app/site" "$ROUNDS"
kill "${pids[-1]}"

jp=$(port); lp=$(port)
(cd "$work/jsite" && exec jekyll serve --livereload --incremental --port "$jp" --livereload-port "$lp" --host 127.0.0.1 -d "$work/jsite-out") > "$work/jekyll.log" 2>&1 &
pids+=("$!")
until curl -s -o /dev/null "http://127.0.0.1:$jp/"; do sleep 0.5; done
measure "jekyll serve --livereload --incremental" "http://127.0.0.1:$jp" "$work/jsite" "$JROUNDS"
