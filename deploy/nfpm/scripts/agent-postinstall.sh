#!/bin/sh
# pantau-agent: Debian postinst (configure [old-version], abort-*) and RPM
# %post ($1 = 1 install, 2 upgrade). Idempotent; never starts or enables
# the service on a first install.
set -e

NAME=pantau-agent
USER=pantau-agent
GROUP=pantau-agent
STATE_DIR=/var/lib/pantau-agent
SYSCTL_TEMPLATE=/usr/share/pantau-agent/60-pantau-agent.conf
SYSCTL_FILE=/etc/sysctl.d/60-pantau-agent.conf
RANGE=/proc/sys/net/ipv4/ping_group_range

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
      --shell "$nologin" --comment "Pantau agent" "$USER"
  else
    adduser --system --ingroup "$GROUP" --home "$STATE_DIR" --no-create-home \
      --shell "$nologin" --gecos "Pantau agent" --disabled-login "$USER"
  fi
fi

# The queue's directory (systemd's StateDirectory= makes it too; made here
# so that pantau-agent commands work before the first start).
if [ ! -d "$STATE_DIR" ]; then
  mkdir -p "$STATE_DIR"
fi
chown "$USER:$GROUP" "$STATE_DIR"
chmod 0750 "$STATE_DIR"

# Files that hold secrets (SNMP communities, the collector token): readable
# by the agent's group, not by everyone. A purge deletes the token and the
# community file (agent.yml's community_file example).
for f in /etc/pantau/agent.yml /etc/pantau/agent.token /etc/pantau/snmp-community; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then
    chown "root:$GROUP" "$f"
    chmod 0640 "$f"
  fi
done

# Unprivileged ICMP for the group: net.ipv4.ping_group_range must include
# its id. Keep a range that already does, widen one that does not, replace
# an empty one (first > last, the kernel's default "1 0").
gid=$(getent group "$GROUP" | cut -d: -f3)
first=$gid
last=$gid
current=unknown
# cat, not read: the shell's byte-wise read of a /proc/sys file stops early.
# shellcheck disable=SC2046
set -- $(cat "$RANGE" 2>/dev/null || true)
if [ $# -eq 2 ]; then
  lo=$1
  hi=$2
  current="$lo $hi"
  if [ "$lo" -le "$hi" ]; then
    first=$lo
    last=$hi
    if [ "$gid" -lt "$first" ]; then first=$gid; fi
    if [ "$gid" -gt "$last" ]; then last=$gid; fi
  fi
fi
# The range before the first install, for a purge to put back.
previous=$current
if [ -f "$SYSCTL_FILE" ]; then
  recorded=$(sed -n 's/^# pantau-agent previous range: //p' "$SYSCTL_FILE")
  if [ -n "$recorded" ]; then previous=$recorded; fi
fi
mkdir -p "$(dirname "$SYSCTL_FILE")"
sed -e "s/^# pantau-agent previous range: .*/# pantau-agent previous range: $previous/" \
    -e "s/^net\.ipv4\.ping_group_range = .*/net.ipv4.ping_group_range = $first $last/" \
    "$SYSCTL_TEMPLATE" >"$SYSCTL_FILE.tmp"
chmod 0644 "$SYSCTL_FILE.tmp"
mv -f "$SYSCTL_FILE.tmp" "$SYSCTL_FILE"
if [ "$current" != "$first $last" ]; then
  applied=no
  if command -v sysctl >/dev/null 2>&1; then
    sysctl -q -p "$SYSCTL_FILE" >/dev/null 2>&1 && applied=yes
  elif [ -w "$RANGE" ]; then
    (echo "$first $last" >"$RANGE") 2>/dev/null && applied=yes
  fi
  if [ "$applied" = yes ]; then
    echo "$NAME: net.ipv4.ping_group_range = $first $last (unprivileged ICMP for group $GROUP, gid $gid)"
  else
    echo "$NAME: could not set net.ipv4.ping_group_range now (a container?); $SYSCTL_FILE applies at boot." >&2
    echo "$NAME: without it, set agent.icmp_mode: raw and grant CAP_NET_RAW (/usr/share/doc/pantau-agent/pantau-agent-raw-icmp.conf)." >&2
  fi
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  # An upgrade restarts a running agent on the new binary; the queue is kept.
  if [ "$first_install" = no ]; then
    systemctl try-restart "$NAME.service" >/dev/null 2>&1 || true
  fi
fi

if [ "$first_install" = yes ]; then
  cat <<MSG
$NAME is installed but not started. Next:
  1. the token from the NOC, readable by the agent only:
       install -m 0640 -o root -g $GROUP /dev/null /etc/pantau/agent.token
       editor /etc/pantau/agent.token
  2. the collector's URL and this site's targets: editor /etc/pantau/agent.yml
  3. runuser -u $NAME -- pantau-agent check-config --config /etc/pantau/agent.yml
     (as the service's user: it starts the plugins to check their config)
  4. systemctl enable --now $NAME && journalctl -u $NAME -f
MSG
fi
exit 0
