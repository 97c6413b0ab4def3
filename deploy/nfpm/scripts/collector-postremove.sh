#!/bin/sh
# pantau-collector: Debian postrm (remove, purge, upgrade, abort-*, ...) and
# RPM %postun ($1 = 0 erase, 1 upgrade).
#
# Neither removal nor purge deletes /var/lib/pantau-collector (the TSDB,
# the agents' tokens, SLA history) or the pantau-collector user that owns
# it: purge says how to, if that is really meant (dpkg itself removes
# collector.yml on purge).
set -e
case "$1" in
  remove|0)
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null 2>&1 || true
    fi
    ;;
  purge)
    rmdir /etc/pantau 2>/dev/null || true
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null 2>&1 || true
    fi
    if [ -d /var/lib/pantau-collector ]; then
      echo "pantau-collector: kept /var/lib/pantau-collector (stored data, agent tokens) and the pantau-collector user;" >&2
      echo "pantau-collector: to delete them: rm -rf /var/lib/pantau-collector && userdel pantau-collector" >&2
    fi
    ;;
esac
exit 0
