#!/bin/sh
# pantau-collector: Debian prerm (remove, upgrade, deconfigure,
# failed-upgrade) and RPM %preun ($1 = 0 erase, 1 upgrade). Stops and
# disables the service on removal only, and only when systemd runs; an
# upgrade leaves it running (the postinstall restarts it on the new binary).
set -e
case "$1" in
  remove|0)
    if [ -d /run/systemd/system ]; then
      systemctl --no-reload disable --now pantau-collector.service >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0
