# The services' OS accounts (sourced by stack/stack.sh and stack/services.sh). Started as root, each boxoffice
# service runs as a system user of its own, $SERVICE_USER-<account> (`boxoffice-intake`, `boxoffice-outbox_relay`,
# …; `make install` adds them), and reads only its own credentials, copied into
# <stack dir>/service-secrets/<account>/ (0700, files 0600, that user's). A compromised intake cannot read the
# relay's Kafka password (and so write booking.events), the processor's Redis password or an operator's.

SERVICE_USER=${BOXOFFICE_SERVICE_USER:-boxoffice}  # the accounts' prefix
SERVICE_ACCOUNTS="intake booking_processor outbox_relay projections expiry notifier mailsink devpay nginx_exporter"

service_account() { case $1 in intake-*) echo intake ;; *) echo "$1" ;; esac; }  # a process's name -> its account
account_user() { echo "$SERVICE_USER-$1"; }
accounts_exist() {  # every account's user (make install adds them)
  local a
  for a in $SERVICE_ACCOUNTS; do id -u "$(account_user "$a")" >/dev/null 2>&1 || return 1; done
}

# An account's credentials: `pgpass` (the services' PostgreSQL role's lines), a stack secret's name
# (<secrets>/<name>.password: its Redis and Kafka users, runtime/clients.py), or a key under auth/.
account_secrets() {
  case $1 in
    intake) echo "pgpass redis-intake kafka-intake payments-api payments-webhook auth/jwks.json auth/dev-signing-key.pem auth/ticket-key.pem" ;;
    booking_processor) echo "pgpass redis-booking_processor kafka-booking_processor" ;;
    outbox_relay) echo "pgpass kafka-outbox_relay" ;;
    projections) echo "redis-projections kafka-projections" ;;
    expiry) echo "pgpass kafka-expiry" ;;
    notifier) echo "pgpass kafka-notifier payments-api payments-webhook" ;;  # refunds and voids
    devpay) echo "payments-api payments-webhook" ;;
    *) echo "" ;;  # the mail sink and the NGINX exporter: none
  esac
}
