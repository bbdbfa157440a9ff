#!/usr/bin/env bash
# The long fuzz run of docs/SECURITY.md: every target of build-asan/ (or those named) for
# SECONDS each (default 600), one after another and one process at a time (-jobs=1), on a
# fresh working corpus seeded from fuzz/corpus/. Prints a Markdown row per target: executions
# per second, total executions, inputs added, peak RSS, what it found, the load average
# before and after. Crash inputs and logs stay in the printed work directory.
# Usage: fuzz/run_long.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(presigned_url s3_events job_settings keys config decode)
work=$(mktemp -d /tmp/sy-fuzz-long.XXXXXX)
echo "work directory: $work" >&2
echo "| target | seconds | exec/s | executions | inputs added | peak RSS MiB | found | load before → after |"
echo "|---|---|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  bin=$root/build-asan/fuzz/fuzz_$t
  mkdir -p "$work/$t/corpus"
  dict=()
  [[ -f $root/fuzz/dict/$t.dict ]] && dict=(-dict="$root/fuzz/dict/$t.dict")
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  (cd "$work/$t" && "$bin" -jobs=1 -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
     -print_final_stats=1 "${dict[@]}" -artifact_prefix="$work/$t/" corpus "$root/fuzz/corpus/$t" \
     >/dev/null 2>&1) || true
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  log=$work/$t/fuzz-0.log
  stat() { grep -m1 "stat::$1:" "$log" | awk '{print $2}'; }
  found=$(ls "$work/$t" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | tr '\n' ' ' || true)
  echo "| $t | $seconds | $(stat average_exec_per_sec) | $(stat number_of_executed_units) |" \
       "$(stat new_units_added) | $(stat peak_rss_mb) | ${found:-nothing} | $load_before → $load_after |"
done
