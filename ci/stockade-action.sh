#!/usr/bin/env bash
# The scan step of the GitHub Action (action.yml), kept here so that it can be run and tested
# outside GitHub. Inputs come as STOCKADE_* variables (action.yml maps its inputs to them; inputs
# are never pasted into the script text). Writes `exit-code`, `report` and `format` to
# $GITHUB_OUTPUT, then exits with stockade's code, so a later step can upload the report
# (if: always()) and the job still fails on findings at or above STOCKADE_FAIL_ON.
set -euo pipefail

format=${STOCKADE_FORMAT:-sarif}
fail_on=${STOCKADE_FAIL_ON:-high}
output=${STOCKADE_OUTPUT:-}
if [[ -z $output ]]; then
  case $format in
    sarif) output=stockade.sarif ;;
    json) output=stockade.json ;;
    junit) output=stockade-junit.xml ;;
    markdown) output=stockade.md ;;
    html) output=stockade.html ;;
    policyreport) output=stockade-policyreport.yaml ;;
    *) output=stockade.txt ;;
  esac
fi
# Paths and extra arguments are split on white space (no globbing, no quotes), as typed in a workflow.
read -r -a paths <<<"${STOCKADE_PATH:-.}"
read -r -a extra <<<"${STOCKADE_ARGS:-}"
if [[ ${#paths[@]} -eq 0 ]]; then
  paths=(.)
fi

mkdir -p -- "$(dirname -- "$output")"
status=0
stockade scan "${paths[@]}" --no-progress --fail-on "$fail_on" -f "$format" -o "$output" ${extra[@]+"${extra[@]}"} || status=$?

{
  echo "exit-code=$status"
  echo "format=$format"
  # No report when the scan did not run (usage error): then nothing is to be uploaded.
  if [[ -f $output ]]; then echo "report=$output"; fi
} >>"${GITHUB_OUTPUT:-/dev/null}"

case $status in
  0) echo "stockade: no findings at or above $fail_on; report in $output" ;;
  1) echo "stockade: findings at or above $fail_on; report in $output" >&2 ;;
  3) echo "stockade: some input could not be read; report in $output" >&2 ;;
esac
exit "$status"
