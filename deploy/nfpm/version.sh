#!/bin/sh
# Prints the package version of the checkout for deploy/nfpm: Debian and
# RPM compatible, and ordered the way releases are.
#   tag v1.2.3                   -> 1.2.3
#   tag v1.2.3-rc1               -> 1.2.3~rc1     (before 1.2.3)
#   4 commits after v1.2.3       -> 1.2.3+git4.gabc1234
#   no tag                       -> 0.0.0+git20251201235959.abc1234 (commit time, UTC)
set -eu
if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
  echo "$d" | sed -E 's/^v//; s/-([0-9]+)-g([0-9a-f]+)$/+git\1.g\2/; s/-/~/g'
elif t=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S 2>/dev/null) && [ -n "$t" ]; then
  echo "0.0.0+git$t.$(git rev-parse --short HEAD)"
else
  echo 0.0.0
fi
