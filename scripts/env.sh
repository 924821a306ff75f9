# Settings shared by the run scripts. Sourced, not run.
# Databases, logs and the secret hold health data or keys: everything the scripts and servers create is
# owner-only, and what an older checkout made before this line is made so too.
umask 077
mkdir -p var/log
chmod -R go= var
# Demo mode (THROUGHCARE_DEMO=1: `make demo`, `make db`, `make demo-dashboard`) runs on the checkout's SQLite file
# and a signing secret made once per checkout in var/secret (never committed). Outside it nothing is filled in:
# DATABASE_URL and THROUGHCARE_SECRET come from the operator, and the servers refuse to start without them
# (throughcare/config.py; README, "Settings").
if [ "${THROUGHCARE_DEMO:-}" = 1 ]; then
  export DATABASE_URL="${DATABASE_URL:-sqlite:///$PWD/var/throughcare.db}"
  if [ -z "${THROUGHCARE_SECRET:-}" ]; then
    [ -s var/secret ] || .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > var/secret
    THROUGHCARE_SECRET="$(cat var/secret)"
    export THROUGHCARE_SECRET
  fi
fi
# The one setting for where every server listens (Rasa, the action server, the dashboard, the Telegram webhook):
# this machine only, unless a deployment puts them behind TLS or on a private network (README, docs/security.md).
export THROUGHCARE_HOST="${THROUGHCARE_HOST:-127.0.0.1}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
