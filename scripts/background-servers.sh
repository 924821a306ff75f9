# Start the action server and Rasa in the background for a foreground client (the terminal chat, the
# Telegram gateway), and stop them when the client ends. Sourced, not run, after scripts/env.sh.
for port in 5005 5055; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port is already in use (another 'make demo', 'make serve' or 'make bot'?). Stop it and try again." >&2
    exit 1
  fi
done
scripts/serve > var/log/serve.log 2>&1 &
serve_pid=$!
trap 'pkill -P "$serve_pid" 2>/dev/null; kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
# The action server is up in seconds; Rasa takes about a minute to load its model, and the client waits for it.
for _ in $(seq 1 60); do
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    echo "The servers stopped while starting; the end of var/log/serve.log says why:" >&2
    tail -n 20 var/log/serve.log >&2
    exit 1
  fi
  (exec 3<>/dev/tcp/127.0.0.1/5055) 2>/dev/null && actions_up=1 && break
  sleep 1
done
if [ -z "${actions_up:-}" ]; then
  echo "The action server did not start within a minute; the end of var/log/serve.log says why:" >&2
  tail -n 20 var/log/serve.log >&2
  exit 1
fi
