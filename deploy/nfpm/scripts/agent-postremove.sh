#!/bin/sh
# pantau-agent: Debian postrm (remove, purge, upgrade, abort-*, ...) and RPM
# %postun ($1 = 0 erase, 1 upgrade).
#
# remove / RPM erase: the configuration, the token, the queue in
# /var/lib/pantau-agent and the user are kept (RPM removes the generated
# sysctl file, which it owns as a ghost).
# purge (Debian): the token, the queue, the sysctl file and the
# pantau-agent user and group go too (dpkg itself removes agent.yml), and
# net.ipv4.ping_group_range is put back to what it was before the first
# install if the kernel still has the range the package wrote.
set -e

SYSCTL_FILE=/etc/sysctl.d/60-pantau-agent.conf
RANGE=/proc/sys/net/ipv4/ping_group_range

case "$1" in
  remove|0)
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null 2>&1 || true
    fi
    ;;
  purge)
    if [ -f "$SYSCTL_FILE" ]; then
      previous=$(sed -n 's/^# pantau-agent previous range: //p' "$SYSCTL_FILE")
      written=$(sed -n 's/^net\.ipv4\.ping_group_range = //p' "$SYSCTL_FILE")
      # cat, not read: the shell's byte-wise read of a /proc/sys file stops early.
      # shellcheck disable=SC2046
      set -- $(cat "$RANGE" 2>/dev/null || true)
      current="$*"
      case "$previous" in
        *[0-9]\ *[0-9])
          if [ -n "$written" ] && [ "$current" = "$written" ] && [ "$previous" != "$written" ]; then
            if command -v sysctl >/dev/null 2>&1; then
              sysctl -q -w "net.ipv4.ping_group_range=$previous" >/dev/null 2>&1 || true
            else
              (echo "$previous" >"$RANGE") 2>/dev/null || true
            fi
          fi
          ;;
      esac
      rm -f "$SYSCTL_FILE"
    fi
    rm -f /etc/pantau/agent.token
    rm -rf /var/lib/pantau-agent
    rmdir /etc/pantau 2>/dev/null || true
    if getent passwd pantau-agent >/dev/null 2>&1; then
      if command -v userdel >/dev/null 2>&1; then
        userdel pantau-agent >/dev/null 2>&1 || true
      else
        deluser --system pantau-agent >/dev/null 2>&1 || true
      fi
    fi
    if getent group pantau-agent >/dev/null 2>&1; then
      if command -v groupdel >/dev/null 2>&1; then
        groupdel pantau-agent >/dev/null 2>&1 || true
      else
        delgroup --system pantau-agent >/dev/null 2>&1 || true
      fi
    fi
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0
