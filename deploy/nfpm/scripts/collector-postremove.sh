#!/bin/sh
# pantau-collector: Debian postrm (remove, purge, upgrade, abort-*, ...) and
# RPM %postun ($1 = 0 erase, 1 upgrade).
#
# remove / RPM erase: the configuration, /var/lib/pantau-collector (the
# TSDB, state.db: the agents' tokens, SLA history) and the user are kept.
# purge (Debian): everything the package made goes: the data directory,
# the pantau-collector user and group (dpkg itself removes collector.yml).
# Back up first (pantau-collector backup) if the data is still wanted.
# Any other file in /etc/pantau still owned by the user or group (an
# inventory written through the API) is given to root rather than left
# owned by an id that no longer exists; the purge names it.
set -e
case "$1" in
  remove|0)
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null 2>&1 || true
    fi
    ;;
  purge)
    if [ -d /var/lib/pantau-collector ]; then
      rm -rf /var/lib/pantau-collector
      echo "pantau-collector: deleted /var/lib/pantau-collector (stored data, agent tokens)" >&2
    fi
    if [ -d /etc/pantau ] && getent group pantau-collector >/dev/null 2>&1; then
      find /etc/pantau -xdev \( -user pantau-collector -o -group pantau-collector \) -print 2>/dev/null |
        while IFS= read -r f; do
          chown -h root:root "$f" && echo "pantau-collector: kept $f, now owned by root (the pantau-collector user and group are deleted)" >&2
        done
    fi
    rmdir /etc/pantau 2>/dev/null || true
    if getent passwd pantau-collector >/dev/null 2>&1; then
      if command -v userdel >/dev/null 2>&1; then
        userdel pantau-collector >/dev/null 2>&1 || true
      else
        deluser --system pantau-collector >/dev/null 2>&1 || true
      fi
    fi
    if getent group pantau-collector >/dev/null 2>&1; then
      if command -v groupdel >/dev/null 2>&1; then
        groupdel pantau-collector >/dev/null 2>&1 || true
      else
        delgroup --system pantau-collector >/dev/null 2>&1 || true
      fi
    fi
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0
