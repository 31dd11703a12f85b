#!/usr/bin/env bash
# Serves the app to a class: K `streamlit run` replicas on loopback behind nginx, with sticky sessions and
# websocket upgrade. Each replica is a process of its own, so K replicas use K cores.
#
#   bash deploy/serve.sh K [PORT]     # then open http://127.0.0.1:PORT (default 8501)
#
# BIND=0.0.0.0 listens on every interface (as the Docker image does); LOG_DIR keeps the replicas' and nginx's
# logs there (by default they go with the run's temporary folder). Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=${1:?usage: deploy/serve.sh K [PORT]}
port=${2:-8501}
bind=${BIND:-127.0.0.1}
if ! [[ $replicas =~ ^[1-9][0-9]?$ ]]; then echo "K must be a whole number from 1 to 99, got '$replicas'" >&2; exit 2; fi
if ! [[ $port =~ ^[0-9]+$ ]]; then echo "PORT must be a number, got '$port'" >&2; exit 2; fi
command -v nginx >/dev/null || { echo "nginx is not installed (Debian: apt-get install nginx)" >&2; exit 2; }

run=$(mktemp -d)
logs=${LOG_DIR:-$run}
mkdir -p "$logs"
pids=()
stop() {
    trap - EXIT INT TERM
    [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$run"
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

# Free loopback ports for the replicas, and one cookie secret so that every replica accepts the same XSRF cookie.
read -r -a ports <<< "$(python - "$replicas" <<'PY'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
)"
STREAMLIT_SERVER_COOKIE_SECRET=$(python -c "import secrets; print(secrets.token_hex(32))")
export STREAMLIT_SERVER_COOKIE_SECRET

for replica_port in "${ports[@]}"; do
    python -m streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port "$replica_port" \
        --server.fileWatcherType none --browser.gatherUsageStats false > "$logs/replica-$replica_port.log" 2>&1 &
    pids+=($!)
done
for index in "${!ports[@]}"; do
    replica_port=${ports[$index]}
    until python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$replica_port/_stcore/health', timeout=1)" \
            2>/dev/null; do
        if ! kill -0 "${pids[$index]}" 2>/dev/null; then
            echo "replica on port $replica_port stopped before it was healthy:" >&2
            cat "$logs/replica-$replica_port.log" >&2
            exit 1
        fi
        sleep 0.2
    done
done

servers="" routes=""
for replica_port in "${ports[@]}"; do
    servers+="        server 127.0.0.1:$replica_port;"$'\n'
    routes+="        \"127.0.0.1:$replica_port\" 127.0.0.1:$replica_port;"$'\n'
done
mkdir -p "$run/temp"
sed -e "s|@RUN@|$run|g" -e "s|@LOGS@|$logs|g" -e "s|@LISTEN@|$bind:$port|g" deploy/nginx.conf \
    | awk -v servers="$servers" -v routes="$routes" '/@SERVERS@/ {printf "%s", servers; next} /@ROUTES@/ {printf "%s", routes; next} {print}' \
    > "$run/nginx.conf"
nginx -e "$logs/nginx-error.log" -p "$run" -c "$run/nginx.conf" &
pids+=($!)
echo "Adversarial Playground: $replicas replicas behind http://$bind:$port (logs in $logs)"
wait -n "${pids[@]}" || true
echo "a replica or nginx stopped; see $logs" >&2
