#!/usr/bin/env bash
# Gives this machine Mesa's lavapipe, the Vulkan driver that runs on the CPU through LLVM: for this engine 3–5×
# faster than SwiftShader where there is no GPU. Dawn needs Mesa ≥ 24.
#   - Mesa ≥ 24 installed system-wide (Debian 13, Ubuntu 24.04+): nothing to do.
#   - Offered by the system's apt (mesa-vulkan-drivers ≥ 24): installed with apt-get.
#   - Debian 12 (Mesa 22.3): mesa-vulkan-drivers is downloaded from the bookworm-backports
#     suite of the archive this machine's apt already uses, through a private apt state folder, and unpacked into
#     $XDG_CACHE_HOME/webgpu-mlp/lavapipe (~/.cache/…), where the engine looks for it; only the
#     driver's missing runtime libraries (LLVM, xcb) are installed system-wide.
# Optional: where none of this works it says so and exits 0; the engine then runs on SwiftShader.
set -uo pipefail
cache=${XDG_CACHE_HOME:-${HOME:-}/.cache}
[ "$cache" != /.cache ] || { echo "setup: lavapipe: neither XDG_CACHE_HOME nor HOME is set; SwiftShader will be used"; exit 0; }
dir=$cache/webgpu-mlp/lavapipe
icd=$dir/root/usr/share/vulkan/icd.d/lvp_icd.json
lib=$dir/root/usr/lib/x86_64-linux-gnu
say() { echo "setup: lavapipe: $*"; }
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo -n"  # never stops at a password prompt: the driver is optional

command -v dpkg-query >/dev/null 2>&1 || { say "not a Debian-family system; install Mesa ≥ 24's Vulkan drivers to use it (else SwiftShader is used)"; exit 0; }
at_least_24() { [ -n "$1" ] && dpkg --compare-versions "$1" ge 24; }
installed=$(dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if at_least_24 "$installed"; then say "the system's (Mesa $installed)"; exit 0; fi
candidate=$(apt-cache policy mesa-vulkan-drivers 2>/dev/null | awk '/Candidate:/ {print $2}')
if at_least_24 "$candidate"; then
  say "installing mesa-vulkan-drivers $candidate (apt-get)"
  $sudo_cmd apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq mesa-vulkan-drivers >/dev/null && exit 0
  say "apt-get install failed; SwiftShader will be used"; exit 0
fi
. /etc/os-release 2>/dev/null || true
if [ "${VERSION_CODENAME:-}" != bookworm ] || [ "$(uname -m)" != x86_64 ]; then
  say "no Mesa ≥ 24 for ${PRETTY_NAME:-this system}; SwiftShader will be used"; exit 0
fi

if [ ! -f "$icd" ]; then
  # The Debian archive's address, as this machine's apt sources give it for bookworm (deb822 stanzas or
  # one-line entries; not the security archive, nor a third party's).
  uri=$(awk -v RS= '/(^|\n)Suites:[^\n]*bookworm([ \n]|$)/ && !/security/ { if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { split(substr($0, RSTART, RLENGTH), f, /[ \t]+/); print f[2]; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  [ -n "$uri" ] || uri=$(grep -hE '^deb +(\[[^]]*\] +)?[^ ]+ +bookworm( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -n 1 | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}')
  [ -n "$uri" ] || { say "no Debian archive in the apt sources; SwiftShader will be used"; exit 0; }
  say "fetching Mesa's Vulkan drivers from bookworm-backports into $dir"
  state=$(mktemp -d)
  trap 'rm -rf "$state"' EXIT
  mkdir -p "$state/lists/partial" "$dir/debs"
  echo "deb $uri bookworm-backports main" > "$state/sources.list"
  mkdir -p "$state/cache/archives/partial"
  rm -rf "$dir/debs" && mkdir -p "$dir/debs"
  o=(-oDir::Etc::SourceList="$state/sources.list" -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists="$state/lists" -oDir::Cache="$state/cache" -oAPT::Sandbox::User=root)
  if ! apt-get "${o[@]}" update -qq >/dev/null 2>&1 || ! (cd "$dir/debs" && apt-get "${o[@]}" download -qq mesa-vulkan-drivers >/dev/null 2>&1); then
    say "could not download it; SwiftShader will be used"; exit 0
  fi
  rm -rf "$dir/root"
  for f in "$dir"/debs/*.deb; do dpkg -x "$f" "$dir/root"; done
  # The manifest names its library by file name; point it at the unpacked one.
  sed -i "s#\"libvulkan_lvp.so\"#\"$lib/libvulkan_lvp.so\"#" "$icd"
fi
# The driver's runtime libraries that the system lacks (lavapipe itself runs on bookworm's libdrm).
deps=$(dpkg-deb -f "$dir"/debs/mesa-vulkan-drivers_*.deb Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/ //g')
missing=()
for d in $deps; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing its runtime libraries ${missing[*]} (apt-get)"
  $sudo_cmd apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null || { say "apt-get install failed; SwiftShader will be used"; exit 0; }
fi
say "$(dpkg-deb -f "$dir"/debs/mesa-vulkan-drivers_*.deb Version) in $dir"
