# Settings shared by the run scripts: the embedded default unless the caller has set otherwise.
# Sourced, not run.
mkdir -p var/log
export DATABASE_URL="${DATABASE_URL:-sqlite:///$PWD/var/throughcare.db}"
if [ -z "${THROUGHCARE_SECRET:-}" ]; then
  # The demo's signing secret is made once per checkout and never committed.
  [ -s var/secret ] || (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > var/secret)
  THROUGHCARE_SECRET="$(cat var/secret)"
  export THROUGHCARE_SECRET
fi
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
