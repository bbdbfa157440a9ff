#!/usr/bin/env bash
# Times `surroundyou render` against plain FFmpeg transcodes and FFmpeg's own 8D-like
# filters on the same 5-minute song, in the same run, and records peak memory on a
# 60-minute song. Prints a Markdown table for docs/BENCHMARKS.md.
#
#   bench/render_bench.sh [build/surroundyou] [runs]      (SKIP_60=1 skips the 60-minute song)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-build/surroundyou}"
RUNS="${2:-3}"
WORK="$(mktemp -d /tmp/sy-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
MUSIC=/usr/share/hyperrogue/music
[[ -x "$BIN" ]] || { echo "build first: $BIN not found" >&2; exit 1; }
[[ -d "$MUSIC" ]] || { echo "install hyperrogue-music (scripts/setup.sh)" >&2; exit 1; }

# A 5-minute song from real music: the decodable tracks back to back, cut at 300 s.
list="$WORK/list.txt"
for f in hr3-graveyard hr3-hell hr3-rlyeh hr3-laboratory; do echo "file '$MUSIC/$f.ogg'" >> "$list"; done
ffmpeg -v error -f concat -safe 0 -i "$list" -t 300 -ar 44100 -c:a libmp3lame -b:a 192k \
  -metadata title="Bench Song" "$WORK/song.mp3"
# 60 minutes: the same song twelve times, stream-copied.
for i in $(seq 12); do echo "file '$WORK/song.mp3'"; done > "$WORK/list60.txt"
ffmpeg -v error -f concat -safe 0 -i "$WORK/list60.txt" -c copy "$WORK/song60.mp3"

# Median wall time (seconds) and max RSS (KiB) of a command over $RUNS runs.
measure() {
  local times=() rss=0
  for _ in $(seq "$RUNS"); do
    rm -f "$WORK"/out.*
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" ||
      { cat "$WORK/stderr.txt" >&2; return 1; }
    read -r t m < "$WORK/time.txt"
    times+=("$t")
    (( m > rss )) && rss=$m
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$median $rss"
}

SONG="$WORK/song.mp3"
declare -A T M
run() { local name=$1; shift; read -r T[$name] M[$name] < <(measure "$@"); echo "  $name: ${T[$name]} s, ${M[$name]} KiB" >&2; }

echo "benchmarking with $RUNS runs each on $(nproc) cores..." >&2
run ffmpeg       ffmpeg -v error -threads 1 -i "$SONG" -c:a libmp3lame -b:a 192k "$WORK/out.mp3"
run apulsator    ffmpeg -v error -threads 1 -i "$SONG" -af apulsator=hz=0.125 -c:a libmp3lame -b:a 192k "$WORK/out.mp3"
run sofalizer    ffmpeg -v error -threads 1 -i "$SONG" -af sofalizer=sofa=/usr/share/libmysofa/default.sofa \
                   -c:a libmp3lame -b:a 192k "$WORK/out.mp3"
run bypass       "$BIN" render "$SONG" -o "$WORK/out.mp3" --bypass --progress none --force
run classic      "$BIN" render "$SONG" -o "$WORK/out.mp3" --progress none --force
if [[ -z "${SKIP_60:-}" ]]; then
RUNS=1 run classic60 "$BIN" render "$WORK/song60.mp3" -o "$WORK/out.mp3" --progress none --force --max-duration 3700
RUNS=1 run bypass60  "$BIN" render "$WORK/song60.mp3" -o "$WORK/out.mp3" --progress none --force --max-duration 3700 --bypass
else T[classic60]=skipped; M[classic60]=0; T[bypass60]=skipped; M[bypass60]=0; fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rtf() { awk -v t="$1" 'BEGIN { printf "%.0f", 300 / t }'; }

cat <<TABLE
| command (5-minute MP3 in, MP3 192k out) | wall s | × real time | vs ffmpeg transcode | peak RSS MiB |
|---|---|---|---|---|
| \`ffmpeg -threads 1 -i song.mp3 -c:a libmp3lame -b:a 192k\` | ${T[ffmpeg]} | $(rtf "${T[ffmpeg]}") | 1.00 | $(mib "${M[ffmpeg]}") |
| \`ffmpeg … -af apulsator=hz=0.125\` | ${T[apulsator]} | $(rtf "${T[apulsator]}") | $(ratio "${T[apulsator]}" "${T[ffmpeg]}") | $(mib "${M[apulsator]}") |
| \`ffmpeg … -af sofalizer=sofa=default.sofa\` | ${T[sofalizer]} | $(rtf "${T[sofalizer]}") | $(ratio "${T[sofalizer]}" "${T[ffmpeg]}") | $(mib "${M[sofalizer]}") |
| \`surroundyou render --bypass\` (gain stage only) | ${T[bypass]} | $(rtf "${T[bypass]}") | $(ratio "${T[bypass]}" "${T[ffmpeg]}") | $(mib "${M[bypass]}") |
| \`surroundyou render\` (classic 8D, two-pass loudness) | ${T[classic]} | $(rtf "${T[classic]}") | $(ratio "${T[classic]}" "${T[ffmpeg]}") | $(mib "${M[classic]}") |

| 60-minute MP3 | wall s | peak RSS MiB |
|---|---|---|
| \`surroundyou render --bypass\` | ${T[bypass60]} | $(mib "${M[bypass60]}") |
| \`surroundyou render\` (classic) | ${T[classic60]} | $(mib "${M[classic60]}") |
TABLE
