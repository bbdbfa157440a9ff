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

# Each command runs once per round and the rounds repeat $RUNS times, so a slow spell of
# the machine (a shared VM's neighbours) hits every command alike; the table shows medians
# of wall time and the largest RSS.
SONG="$WORK/song.mp3"
declare -A CMD T M
NAMES=()
add() { local name=$1; shift; NAMES+=("$name"); CMD[$name]="$(printf '%q ' "$@")"; }
once() {  # prints "seconds KiB" for one run of a named command
  rm -f "$WORK"/out.*
  eval "/usr/bin/time -f '%e %M' -o '$WORK/time.txt' ${CMD[$1]}" >/dev/null 2>"$WORK/stderr.txt" ||
    { cat "$WORK/stderr.txt" >&2; return 1; }
  cat "$WORK/time.txt"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

add ffmpeg       ffmpeg -v error -threads 1 -i "$SONG" -c:a libmp3lame -b:a 192k "$WORK/out.mp3"
add apulsator    ffmpeg -v error -threads 1 -i "$SONG" -af apulsator=hz=0.125 -c:a libmp3lame -b:a 192k "$WORK/out.mp3"
add sofalizer    ffmpeg -v error -threads 1 -i "$SONG" -af sofalizer=sofa=/usr/share/libmysofa/default.sofa \
                   -c:a libmp3lame -b:a 192k "$WORK/out.mp3"
add bypass       "$BIN" render "$SONG" -o "$WORK/out.mp3" --bypass --progress none --force
add classic      "$BIN" render "$SONG" -o "$WORK/out.mp3" --progress none --force

echo "benchmarking: $RUNS rounds of ${#NAMES[@]} commands on $(nproc) cores (load $(cut -d' ' -f1-3 /proc/loadavg))..." >&2
declare -A ALL
for round in $(seq "$RUNS"); do
  for name in "${NAMES[@]}"; do
    read -r t m < <(once "$name")
    ALL[$name]+="$t "
    (( m > ${M[$name]:-0} )) && M[$name]=$m
  done
done
declare -A R
for name in "${NAMES[@]}"; do
  # shellcheck disable=SC2086
  T[$name]=$(median ${ALL[$name]})
  # The ratio to the plain transcode of the same round, median over the rounds.
  # shellcheck disable=SC2086
  R[$name]=$(median $(paste <(tr ' ' '\n' <<< "${ALL[$name]}") <(tr ' ' '\n' <<< "${ALL[ffmpeg]}") |
                      awk 'NF == 2 { printf "%.3f\n", $1 / $2 }'))
  echo "  $name: ${T[$name]} s (runs: ${ALL[$name]}), ratio ${R[$name]}, ${M[$name]} KiB" >&2
done
if [[ -z "${SKIP_60:-}" ]]; then
  add classic60 "$BIN" render "$WORK/song60.mp3" -o "$WORK/out.mp3" --progress none --force --max-duration 3700
  add bypass60  "$BIN" render "$WORK/song60.mp3" -o "$WORK/out.mp3" --progress none --force --max-duration 3700 --bypass
  for name in classic60 bypass60; do read -r T[$name] M[$name] < <(once "$name"); echo "  $name: ${T[$name]} s, ${M[$name]} KiB" >&2; done
else T[classic60]=skipped; M[classic60]=0; T[bypass60]=skipped; M[bypass60]=0; fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rtf() { awk -v t="$1" 'BEGIN { printf "%.0f", 300 / t }'; }

cat <<TABLE
| command (5-minute MP3 in, MP3 192k out) | wall s (median) | × real time | vs ffmpeg transcode (median of per-round ratios) | peak RSS MiB |
|---|---|---|---|---|
| \`ffmpeg -threads 1 -i song.mp3 -c:a libmp3lame -b:a 192k\` | ${T[ffmpeg]} | $(rtf "${T[ffmpeg]}") | 1.00 | $(mib "${M[ffmpeg]}") |
| \`ffmpeg … -af apulsator=hz=0.125\` | ${T[apulsator]} | $(rtf "${T[apulsator]}") | ${R[apulsator]} | $(mib "${M[apulsator]}") |
| \`ffmpeg … -af sofalizer=sofa=default.sofa\` | ${T[sofalizer]} | $(rtf "${T[sofalizer]}") | ${R[sofalizer]} | $(mib "${M[sofalizer]}") |
| \`surroundyou render --bypass\` (gain stage only) | ${T[bypass]} | $(rtf "${T[bypass]}") | ${R[bypass]} | $(mib "${M[bypass]}") |
| \`surroundyou render\` (classic 8D, loudness-normalised) | ${T[classic]} | $(rtf "${T[classic]}") | ${R[classic]} | $(mib "${M[classic]}") |

| 60-minute MP3 | wall s | peak RSS MiB |
|---|---|---|
| \`surroundyou render --bypass\` | ${T[bypass60]} | $(mib "${M[bypass60]}") |
| \`surroundyou render\` (classic) | ${T[classic60]} | $(mib "${M[classic60]}") |
TABLE
