#!/usr/bin/env bash
# Install the Debian packages named as arguments, if any is missing.
# Fast when nothing is missing (one dpkg-query). As root with apt-get it installs
# non-interactively; otherwise it names the missing packages and fails.
set -euo pipefail
missing=()
for pkg in "$@"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: these Debian packages are missing and apt-get is not available: ${missing[*]}" >&2
  echo "错误：缺少以下 Debian 软件包，且本机没有 apt-get：${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: these Debian packages are missing; run as root or install them first:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  echo "错误：缺少 Debian 软件包，请以 root 运行或先安装：${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
