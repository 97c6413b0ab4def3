#!/bin/sh
# pantau-agent: Debian postrm (remove, purge, upgrade, abort-*, ...) and RPM
# %postun ($1 = 0 erase, 1 upgrade).
#
# remove / RPM erase: the configuration, the token, the queue in
# /var/lib/pantau-agent and the user are kept (RPM removes the generated
# sysctl file, which it owns as a ghost).
# purge (Debian): the token, the SNMP community file, the queue, the
# sysctl file and the pantau-agent user and group go too (dpkg itself
# removes agent.yml), and net.ipv4.ping_group_range is put back to what it
# was before the first install if the kernel still has the range the
# package wrote. Any other file in /etc/pantau still owned by the user or
# group (the operator's) is given to root rather than left owned by an id
# that no longer exists; the purge names it.
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
    rm -f /etc/pantau/agent.token /etc/pantau/snmp-community
    rm -rf /var/lib/pantau-agent
    if [ -d /etc/pantau ] && getent group pantau-agent >/dev/null 2>&1; then
      find /etc/pantau -xdev \( -user pantau-agent -o -group pantau-agent \) -print 2>/dev/null |
        while IFS= read -r f; do
          chown -h root:root "$f" && echo "pantau-agent: kept $f, now owned by root (the pantau-agent user and group are deleted)" >&2
        done
    fi
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
