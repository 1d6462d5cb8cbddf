#!/usr/bin/env bash
# A Plangrep client in bash + curl + jq: wait for a job and print it.
#
# Poll GET /jobs/{jobId} every 15 s, stop at the first terminal status, honour Retry-After on
# 429 and 503, back off on other 5xx, give up after 600 s. Every sleep is divided by
# PLANGREP_TIME_SCALE, so `plangrep-mock check` can run it at x200.
set -euo pipefail
scale="${PLANGREP_TIME_SCALE:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

nap() {  # sleep $1 virtual seconds
    sleep "$(awk -v s="$1" -v k="$scale" 'BEGIN { printf "%.3f", s / k }')"
}

waited=0
while (( waited <= 600 )); do
    code="$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' \
        -H "Authorization: Bearer $PLANGREP_API_KEY" "$PLANGREP_BASE_URL/jobs/$PLANGREP_JOB_ID")"
    delay=15
    if [[ "$code" == 200 ]]; then
        status="$(jq -r .job.status "$work/body")"
        echo "$PLANGREP_JOB_ID: $status" >&2
        case "$status" in
            completed|completed_with_errors|failed|cancelled|expired)
                jq -c .job "$work/body"
                exit 0 ;;
        esac
    elif [[ "$code" == 429 || "$code" -ge 500 ]]; then
        asked="$(tr -d '\r' < "$work/headers" | awk -F': ' 'tolower($1) == "retry-after" { print $2 }')"
        delay="${asked:-30}"
        (( delay < 15 )) && delay=15
    else
        echo "GET /jobs/$PLANGREP_JOB_ID: HTTP $code $(cat "$work/body")" >&2
        exit 1
    fi
    nap "$delay"
    waited=$(( waited + delay ))
done
echo "gave up: $PLANGREP_JOB_ID did not finish within 600 s" >&2
exit 1
