#!/usr/bin/env bash
# Rebuild the golden link/id lists from real Jekyll (Debian: apt-get install jekyll ruby-jekyll-feed).
# Usage: tests/data/jekyll/regenerate.sh [CORPUS]   (default ../shared/corpus)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(cd "${1:-$here/../../../../shared/corpus}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for site in finews jekyll-docs; do
  cp -r "$corpus/$site" "$work/$site"
  cd "$work/$site"
  rm -rf _layouts
  # Only jekyll-feed, allowed in safe mode; no theme; every post in the feed.
  python3 - <<'PY'
import re
text = open("_config.yml", encoding="utf-8").read()
text = re.sub(r"(?m)^theme:.*$", "", text)
text = re.sub(r"(?ms)^plugins:\n(?:[ ]*- .*\n)+", "", text)
text = re.sub(r"(?ms)^feed:\n(?:[ ]+.*\n)+", "", text)
text += "\nplugins:\n  - jekyll-feed\nwhitelist:\n  - jekyll-feed\nfeed:\n  posts_limit: 1000\n"
open("_config.yml", "w", encoding="utf-8").write(text)
PY
  # `{% link %}` targets that the corpus does not carry must exist for Jekyll to build.
  { grep -ohE "\{% link (_[a-z]+/[^ ]+) %\}" _posts/* 2>/dev/null || true; } | sed -E 's/\{% link (.*) %\}/\1/' | sort -u |
    while read -r target; do [ -e "$target" ] || { mkdir -p "$(dirname "$target")"; printf -- '---\ntitle: stub\n---\n' > "$target"; }; done
  jekyll build -q -d "$work/$site-site"
  python3 - "$work/$site-site/feed.xml" "$here/$site.tsv" "$site" "$(jekyll --version)" <<'PY'
import re, sys, xml.etree.ElementTree as ET
feed, out, site, version = sys.argv[1:]
ns = {"a": "http://www.w3.org/2005/Atom"}
rows = sorted(
    (e.find("a:link[@rel='alternate']", ns).get("href"), e.find("a:id", ns).text)
    for e in ET.parse(feed).getroot().findall("a:entry", ns)
)
with open(out, "w", encoding="utf-8") as f:
    f.write(f"# Entry links and ids of ../shared/corpus/{site} as built by {version} + jekyll-feed\n")
    f.write("# (feed: posts_limit: 1000). Regenerate: tests/data/jekyll/regenerate.sh\n")
    f.writelines(f"{link}\t{id_}\n" for link, id_ in rows)
PY
  cd - >/dev/null
done
