#!/bin/sh
# pantau-collector: Debian postinst (configure [old-version], abort-*) and
# RPM %post ($1 = 1 install, 2 upgrade). Idempotent; never starts or
# enables the service on a first install.
set -e

NAME=pantau-collector
USER=pantau-collector
GROUP=pantau-collector
STATE_DIR=/var/lib/pantau-collector

case "$1" in
  triggered) exit 0 ;;
esac
first_install=no
case "$1" in
  configure) [ -z "$2" ] && first_install=yes ;;
  1) first_install=yes ;;
esac

# The system user and group, with useradd (Debian's passwd, RHEL's
# shadow-utils) or else Debian's adduser.
nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
if ! getent group "$GROUP" >/dev/null 2>&1; then
  if command -v groupadd >/dev/null 2>&1; then
    groupadd --system "$GROUP"
  else
    addgroup --system "$GROUP"
  fi
fi
if ! getent passwd "$USER" >/dev/null 2>&1; then
  if command -v useradd >/dev/null 2>&1; then
    useradd --system --gid "$GROUP" --home-dir "$STATE_DIR" --no-create-home \
      --shell "$nologin" --comment "Pantau collector" "$USER"
  else
    adduser --system --ingroup "$GROUP" --home "$STATE_DIR" --no-create-home \
      --shell "$nologin" --gecos "Pantau collector" --disabled-login "$USER"
  fi
fi

# The data directory (systemd's StateDirectory= makes it too; made here so
# that "runuser -u pantau-collector -- pantau-collector token create" works
# before the first start).
if [ ! -d "$STATE_DIR" ]; then
  mkdir -p "$STATE_DIR"
fi
chown "$USER:$GROUP" "$STATE_DIR"
chmod 0750 "$STATE_DIR"

# collector.yml may hold notifier secrets (bot tokens, webhook URLs).
for f in /etc/pantau/collector.yml; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then
    chown "root:$GROUP" "$f"
    chmod 0640 "$f"
  fi
done

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  # An upgrade restarts a running collector on the new binary.
  if [ "$first_install" = no ]; then
    systemctl try-restart "$NAME.service" >/dev/null 2>&1 || true
  fi
fi

if [ "$first_install" = yes ]; then
  cat <<MSG
$NAME is installed but not started. Next:
  1. editor /etc/pantau/collector.yml; pantau-collector check-config --config /etc/pantau/collector.yml
  2. systemctl enable --now $NAME && journalctl -u $NAME -f
  3. a token per agent (printed once):
       runuser -u $USER -- $NAME token create --config /etc/pantau/collector.yml --agent AGENT --site SITE
  4. the inventory: /usr/share/doc/$NAME/inventory.example.yml
MSG
fi
exit 0
