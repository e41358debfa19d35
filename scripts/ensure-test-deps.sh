#!/usr/bin/env bash
# Installs the Debian packages that the system tests (vitest project "system") need, and only
# those that are missing: a machine that already has everything is checked in milliseconds and
# apt is never called. Safe to run any number of times. Needs root (CI and dev machines are).
#
# To add a tool, add one line to REQUIRED below: the Debian package, then a file or command
# whose presence proves the package is installed.
set -euo pipefail

# package            proof it is installed (an absolute path, or a command looked up on PATH)
REQUIRED=(
  "openssh-server    /usr/sbin/sshd"
  "openssh-client    ssh-keygen"
  "iproute2          ip"
  "util-linux        unshare"
  "transmission-daemon /usr/bin/transmission-daemon"
  "avahi-daemon      /usr/sbin/avahi-daemon"
  "avahi-utils       avahi-browse"
  "dbus-daemon       /usr/bin/dbus-daemon"
  "prometheus        /usr/bin/promtool"
  "prometheus-alertmanager /usr/bin/amtool"
  "prometheus-node-exporter /usr/bin/prometheus-node-exporter"
  "nix-bin           nix-instantiate"
  "bindfs            bindfs"
  "chromium          /usr/bin/chromium"
  "libnss3-tools     certutil"
)

present() {
  local proof=$1
  if [[ $proof == /* ]]; then [[ -x $proof ]]; else command -v "$proof" >/dev/null 2>&1; fi
}

missing=()
for entry in "${REQUIRED[@]}"; do
  read -r package proof <<<"$entry"
  present "$proof" || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  echo "ensure-test-deps: all present"
  exit 0
fi

if ((EUID != 0)); then
  echo "ensure-test-deps: missing ${missing[*]}; run this script as root to install them" >&2
  exit 1
fi

# Package maintainer scripts start their service (openssh-server would start a host-wide sshd on
# port 22, avahi-daemon a host-wide mDNS responder on the machine's real network, prometheus,
# prometheus-alertmanager and prometheus-node-exporter listeners on 9090, 9093 and 9100). The tests
# start their own instances inside lab namespaces, so forbid that with the standard Debian
# policy-rc.d hook, unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# Temporary: written by scripts/ensure-test-deps.sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "ensure-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Installing must have made each proof appear; if a proof is wrong, say so here rather than
# leaving the tests to fail later with a confusing message.
for entry in "${REQUIRED[@]}"; do
  read -r package proof <<<"$entry"
  present "$proof" || { echo "ensure-test-deps: $package installed but $proof is still missing" >&2; exit 1; }
done
echo "ensure-test-deps: done"
