#!/usr/bin/env bash
# One-shot of docker-compose.yml (service es-security), run in the Elasticsearch image (it has curl).
#
# With ES_SECURITY=true, as the superuser `elastic` (password ELASTIC_PASSWORD, which the Elasticsearch
# image applies at first start) and only here, once:
#   * the built-in user kibana_system, Kibana's login to Elasticsearch, gets the password KIBANA_PASSWORD;
#   * the user `lytter`, what the worker, the ingest agents and the CLI log in with, gets the role `lytter`
#     (deploy/elasticsearch/roles.yml, mounted as the node's config/roles.yml) and LYTTER_ES_PASSWORD;
#   * the script checks, logged in as `lytter`, that the role is loaded.
# With security off (the default) there is nothing to do. Idempotent: setting the same passwords again is fine.
set -euo pipefail

ES_URL="${ES_URL:-http://elasticsearch:9200}"
LYTTER_USER="${LYTTER_USER:-lytter}"
LYTTER_ROLE="lytter"

if [[ "${ES_SECURITY:-false}" != "true" ]]; then
  echo "es-security: ES_SECURITY is not true; Elasticsearch runs without security, nothing to set up"
  exit 0
fi
: "${ELASTIC_PASSWORD:?ELASTIC_PASSWORD must be set when ES_SECURITY=true}"
: "${KIBANA_PASSWORD:?KIBANA_PASSWORD must be set when ES_SECURITY=true}"
: "${LYTTER_ES_PASSWORD:?LYTTER_ES_PASSWORD must be set when ES_SECURITY=true}"

json_string() {  # a JSON string literal of $1 (a password may hold quotes or backslashes)
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# call METHOD PATH BODY [USER:PASSWORD]: prints the HTTP status, the answer goes to /tmp/answer
call() {
  local credentials="${4:-elastic:${ELASTIC_PASSWORD}}"
  curl -s -o /tmp/answer -w '%{http_code}' -u "$credentials" -X "$1" "${ES_URL}$2" \
    -H 'Content-Type: application/json' -d "$3" || true  # no answer: curl prints 000
}

ready=""
for attempt in $(seq 1 60); do
  status=$(call POST /_security/user/kibana_system/_password "{\"password\":$(json_string "$KIBANA_PASSWORD")}")
  if [[ "$status" == "200" ]]; then
    echo "es-security: password of kibana_system set"
    ready=yes
    break
  fi
  if [[ "$status" == "401" ]]; then
    echo "es-security: Elasticsearch refused elastic's password (401). ELASTIC_PASSWORD only applies when the" >&2
    echo "data volume is new: use the password it was created with, or remove the volume (docker compose down -v)." >&2
    exit 1
  fi
  echo "es-security: attempt ${attempt}: HTTP ${status}; retrying"
  sleep 2
done
if [[ -z "$ready" ]]; then
  echo "es-security: could not set the kibana_system password: $(cat /tmp/answer 2>/dev/null)" >&2
  exit 1
fi

body="{\"password\":$(json_string "$LYTTER_ES_PASSWORD"),\"roles\":[\"${LYTTER_ROLE}\"],\"full_name\":\"Lytter: worker, ingest agents, CLI\"}"
status=$(call POST "/_security/user/${LYTTER_USER}" "$body")
if [[ "$status" != "200" ]]; then
  echo "es-security: could not create the user ${LYTTER_USER} (HTTP ${status}): $(cat /tmp/answer 2>/dev/null)" >&2
  exit 1
fi
echo "es-security: user ${LYTTER_USER} with role ${LYTTER_ROLE}"

# an unknown role is no error for Elasticsearch: the user would log in with no privileges at all
status=$(call POST /_security/user/_has_privileges '{"cluster":["manage_index_templates"]}' "${LYTTER_USER}:${LYTTER_ES_PASSWORD}")
if [[ "$status" != "200" ]] || ! grep -q '"has_all_requested" *: *true' /tmp/answer; then
  echo "es-security: the user ${LYTTER_USER} does not have the role ${LYTTER_ROLE} (HTTP ${status}): is" >&2
  echo "deploy/elasticsearch/roles.yml mounted as /usr/share/elasticsearch/config/roles.yml? $(cat /tmp/answer 2>/dev/null)" >&2
  exit 1
fi
echo "es-security: ${LYTTER_USER} has the role ${LYTTER_ROLE}; the superuser is not needed by Lytter"
