#!/usr/bin/env bash
# check_deploy.sh BINARY DEPLOY_DIR — the files in deploy/ cannot run here, so check that every
# flag and environment variable they use exists in the binary: flags against
# `surroundyou serve --help` / `worker --help`, variables against the strings the binary reads.
set -uo pipefail
bin=${1:?usage: check_deploy.sh BINARY DEPLOY_DIR}
dir=${2:?usage: check_deploy.sh BINARY DEPLOY_DIR}
serve_help=$("$bin" serve --help) || exit 1
worker_help=$("$bin" worker --help) || exit 1
known_strings=$(strings -a "$bin" | grep -E '^(SY|AWS)_[A-Z0-9_]+$' | sort -u)
fail=0 flags=0 vars=0
while IFS= read -r file; do
  # Flags on lines that run one of our commands.
  while IFS= read -r line; do
    for cmd in serve worker; do
      [[ $line =~ (^|[^a-z-])\"?$cmd\"?([^a-z-]|$) ]] || continue
      help=$serve_help; [[ $cmd == worker ]] && help=$worker_help
      for flag in $(grep -oE -- '--[a-z][a-z-]+' <<<"$line"); do
        flags=$((flags + 1))
        grep -qE -- "(^|[ ,])$flag([ =,]|$)" <<<"$help" || { echo "$file: '$cmd $flag' is not a flag of the binary"; fail=1; }
      done
    done
  done < <(grep -vE '^\s*#|apt-get|cmake' "$file")
  # Environment variables: SY_* and the AWS credentials.
  for var in $(grep -vE '^\s*#' "$file" | grep -oE '\b(SY_[A-Z0-9_]+|AWS_[A-Z_]+)\b' | sort -u); do
    vars=$((vars + 1))
    grep -qx -- "$var" <<<"$known_strings" || { echo "$file: environment variable $var is not read by the binary"; fail=1; }
  done
done < <(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name 'Dockerfile' \))
echo "check_deploy: $flags flag uses, $vars variable uses checked"
exit $fail
