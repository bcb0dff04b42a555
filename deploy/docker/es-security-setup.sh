#!/usr/bin/env bash
# One-shot of docker-compose.yml (service es-security), run in the Elasticsearch image (it has curl).
#
# With ES_SECURITY=true Kibana logs in to Elasticsearch as the built-in user kibana_system, whose
# password must be set through the API by a superuser: this sets it to KIBANA_PASSWORD, as `elastic`
# (password ELASTIC_PASSWORD, which the Elasticsearch image applies at first start). With security off
# (the default) there is nothing to do. Idempotent: setting the same password again is fine.
set -euo pipefail

ES_URL="${ES_URL:-http://elasticsearch:9200}"

if [[ "${ES_SECURITY:-false}" != "true" ]]; then
  echo "es-security: ES_SECURITY is not true; Elasticsearch runs without security, nothing to set up"
  exit 0
fi
: "${ELASTIC_PASSWORD:?ELASTIC_PASSWORD must be set when ES_SECURITY=true}"
: "${KIBANA_PASSWORD:?KIBANA_PASSWORD must be set when ES_SECURITY=true}"

for attempt in $(seq 1 60); do
  status=$(curl -s -o /tmp/answer -w '%{http_code}' -u "elastic:${ELASTIC_PASSWORD}" \
    -X POST "${ES_URL}/_security/user/kibana_system/_password" \
    -H 'Content-Type: application/json' \
    -d "{\"password\":\"${KIBANA_PASSWORD}\"}") || status=000
  if [[ "$status" == "200" ]]; then
    echo "es-security: password of kibana_system set"
    exit 0
  fi
  if [[ "$status" == "401" ]]; then
    echo "es-security: Elasticsearch refused elastic's password (401). ELASTIC_PASSWORD only applies when the" >&2
    echo "data volume is new: use the password it was created with, or remove the volume (docker compose down -v)." >&2
    exit 1
  fi
  echo "es-security: attempt ${attempt}: HTTP ${status}; retrying"
  sleep 2
done
echo "es-security: could not set the kibana_system password: $(cat /tmp/answer 2>/dev/null)" >&2
exit 1
