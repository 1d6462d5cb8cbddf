#!/usr/bin/env bash
# Broken on purpose: a whole submission in bash + curl + jq that lets curl retry every call
# (`--retry 3 --retry-all-errors`), the create included, and sends no Idempotency-Key: when the
# create's answer is lost after Plangrep made the job, curl's retry makes a second job.
set -euo pipefail
scale="${PLANGREP_TIME_SCALE:-1}"

api() {  # api METHOD PATH [curl options]
    local method="$1" path="$2"
    shift 2
    curl -sS --retry 3 --retry-all-errors --retry-delay 1 -X "$method" \
        -H "Authorization: Bearer $PLANGREP_API_KEY" "$@" "$PLANGREP_BASE_URL$path"
}

nap() {  # sleep $1 virtual seconds
    sleep "$(awk -v s="$1" -v k="$scale" 'BEGIN { printf "%.3f", s / k }')"
}

job="$(api POST "/projects/$PLANGREP_PROJECT_ID/jobs" -H 'Content-Type: application/json' \
    -d '{}' | jq -r .job.id)"
echo "created $job" >&2
for name in $(jq -r '.files[].fileName' "$PLANGREP_FILES_MANIFEST"); do
    metadata="{\"files\": [{\"partName\": \"file0\", \"fileName\": \"$name\", \"contentType\": \"application/pdf\"}]}"
    api POST "/jobs/$job/files" -F "metadata=$metadata;type=application/json" \
        -F "file0=@$PLANGREP_FILES_DIR/$name;type=application/pdf" > /dev/null
done
api POST "/jobs/$job/uploads/complete" -H 'Content-Type: application/json' -d '{}' > /dev/null
while true; do
    nap 15
    status="$(api GET "/jobs/$job" | jq -r .job.status)"
    echo "$job: $status" >&2
    case "$status" in
        completed|completed_with_errors) api GET "/jobs/$job/result"; exit 0 ;;
        failed|cancelled|expired) api GET "/jobs/$job" | jq -c .job; exit 0 ;;
    esac
done
