#!/usr/bin/env bash
# Runs the official Socket.IO and Engine.IO protocol test suites against a
# fixture built from ordercast's sockets package (e2e/conformance/fixture).
#
#   SOCKETIO_PROTOCOL_DIR  checkout of github.com/socketio/socket.io-protocol
#   ENGINEIO_PROTOCOL_DIR  checkout of github.com/socketio/engine.io-protocol
#   CONFORMANCE_RUNS       runs of each suite (default 1)
#
# Either directory may be left unset to skip that suite. The suites' npm
# dependencies are installed into their own checkout, with ws 8.16 (the ws
# 8.5 of their lock files has a client-side race).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${CONFORMANCE_RUNS:-1}
port=3000 # the suites' URL is fixed: http://localhost:3000
if [[ -z ${SOCKETIO_PROTOCOL_DIR:-} && -z ${ENGINEIO_PROTOCOL_DIR:-} ]]; then
  echo "set SOCKETIO_PROTOCOL_DIR and/or ENGINEIO_PROTOCOL_DIR (see README, Protocol conformance)" >&2
  exit 2
fi

tmp=$(mktemp -d)
fixture_pid=
cleanup() {
  if [[ -n $fixture_pid ]]; then kill "$fixture_pid" 2>/dev/null || true; wait "$fixture_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -tags conformance -o "$tmp/fixture" ./e2e/conformance/fixture)

deps() { # $1: test-suite directory
  if [[ ! -x $1/node_modules/.bin/mocha ]]; then
    (cd "$1" && npm ci --no-audit --no-fund --silent)
  fi
  if ! grep -q '"version": "8.16' "$1/node_modules/ws/package.json"; then
    (cd "$1" && npm install --no-save --no-audit --no-fund --silent ws@8.16.0)
  fi
}

wait_port() { # until the fixture accepts connections, at most 10 s
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$fixture_pid" 2>/dev/null; then echo "fixture exited" >&2; return 1; fi
    sleep 0.1
  done
  echo "fixture did not listen on :$port" >&2
  return 1
}

status=0
suite() { # $1: socket.io or engine.io, $2: protocol checkout
  local name=$1 dir=$2/test-suite
  [[ -f $dir/test-suite.js ]] || { echo "no $dir/test-suite.js" >&2; status=1; return; }
  deps "$dir"
  "$tmp/fixture" -suite "$name" -port "$port" 2>"$tmp/$name.log" &
  fixture_pid=$!
  wait_port
  local i
  for i in $(seq "$runs"); do
    (cd "$dir" && ./node_modules/.bin/mocha --reporter json --exit test-suite.js >"$tmp/out.json" 2>/dev/null) || true
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(`${process.argv[2]} run ${process.argv[3]}: ${r.stats.passes}/${r.stats.tests} passed`);
      for (const f of r.failures) console.log(`  FAIL ${f.fullTitle}: ${(f.err.message || "").split("\n")[0]}`);
      process.exit(r.stats.failures ? 1 : 0);
    ' "$tmp/out.json" "$name" "$i" || status=1
  done
  kill "$fixture_pid"
  wait "$fixture_pid" 2>/dev/null || true
  fixture_pid=
}

[[ -n ${SOCKETIO_PROTOCOL_DIR:-} ]] && suite socket.io "$SOCKETIO_PROTOCOL_DIR"
[[ -n ${ENGINEIO_PROTOCOL_DIR:-} ]] && suite engine.io "$ENGINEIO_PROTOCOL_DIR"
exit $status
