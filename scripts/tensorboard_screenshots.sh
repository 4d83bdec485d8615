#!/usr/bin/env bash
# Screenshots of TensorBoard's tabs (or of any page) with headless Chromium (Debian: apt-get install -y
# chromium), for docs/diagnosis.md:
#   scripts/tensorboard_screenshots.sh LOGDIR OUT_PREFIX TAB...   # e.g. ... outputs/runs docs/img/tb scalars images
#   scripts/tensorboard_screenshots.sh --page FILE.html OUT.png   # e.g. a `ganrun report` page
#   HEIGHT=1600 ...: a taller window (default 1100 for tabs, 2400 for pages)
set -euo pipefail
shot() {  # URL FILE [HEIGHT]
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1600,"${3:-1100}" \
    --virtual-time-budget=25000 --screenshot="$2" "$1" 2>/dev/null
}
if [ "$1" = "--page" ]; then shot "file://$(realpath "$2")" "$3" "${HEIGHT:-2400}"; exit; fi
logdir=$1; prefix=$2; shift 2; port=${PORT:-6016}
mkdir -p "$(dirname "$prefix")"
tensorboard --logdir "$logdir" --port "$port" --samples_per_plugin images=1000 >/dev/null 2>&1 &
tb=$!
trap 'kill $tb' EXIT
for _ in $(seq 60); do curl -sf "localhost:$port/data/runs" >/dev/null && break; sleep 1; done
for tab in "$@"; do  # a TAB may carry a filter: text&tagFilter=health
  shot "http://localhost:$port/#$tab" "${prefix}_${tab%%&*}.png" "${HEIGHT:-1100}"
done
