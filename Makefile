# ordercast — run, test, bench, build.
BIN      := ordercast
BUNDLE   := node_modules/socket.io-client/dist/socket.io.min.js

.PHONY: all build assets run test test-go test-e2e fuzz bench clean deps conformance

all: build

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

deps: node_modules

# The browser bundle comes from npm; it is copied in, never committed.
public/assets/socket.io.min.js: node_modules
	mkdir -p public/assets
	cp $(BUNDLE) public/assets/socket.io.min.js
	cp $(BUNDLE).map public/assets/socket.io.min.js.map

assets: public/assets/socket.io.min.js

build: assets
	go build -o $(BIN) .

run: build
	./$(BIN) serve --demo --shutdown-delay 0

# Everything: the Go checks and tests, then the end-to-end suites. The
# npm packages come first, so that the Go tests that drive the real
# socket.io-client (metrics/session_test.go) run instead of skipping.
test: deps test-go test-e2e

# Go alone: needs no Node (the pages then say the client bundle is missing).
test-go:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	go mod tidy -diff
	go vet ./...
	go test -race -count=1 ./...

# The Node suites against the real binary (socket.io-client, Chromium).
# --test-force-exit: a test file's process exits once its tests are done,
# even if a handle left open would keep Node 20 in its teardown.
test-e2e: build
	node --test --test-concurrency=1 --test-force-exit e2e/

# Each fuzz target for FUZZTIME (go test runs only their seed corpora,
# testdata/fuzz/<Name>/). New failing inputs land in testdata: keep them.
FUZZTIME ?= 20s
FUZZ_handlers := FuzzCreateOrderBody FuzzStatusBody FuzzListQuery FuzzLastEventID \
	FuzzWebhookSignature FuzzSocketPayload FuzzSocketPacket FuzzPollingPost \
	FuzzIdempotencyKey FuzzRequestHash FuzzPayloadFromMap
FUZZ_auth     := FuzzStaffToken FuzzStaffTokenTamper FuzzTrackingToken
FUZZ_orders   := FuzzValidateNewOrder FuzzCheckText FuzzOrderJSON FuzzEventJSON
FUZZ_sockets  := FuzzParseFrame FuzzEventDecode

fuzz:
	@set -e; for pkg in handlers auth orders sockets; do \
	  case $$pkg in handlers) list="$(FUZZ_handlers)";; auth) list="$(FUZZ_auth)";; orders) list="$(FUZZ_orders)";; sockets) list="$(FUZZ_sockets)";; esac; \
	  for f in $$list; do echo "== $$pkg $$f"; go test ./$$pkg -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME); done; \
	done

# ordercast against the Node.js socket.io reference, side by side
# (bench/RESULTS.md); BENCH_SCALE=small for a smoke run, knobs in bench/run.sh.
bench: build
	bench/run.sh

clean:
	rm -f $(BIN) public/assets/socket.io.min.js public/assets/socket.io.min.js.map

# The official protocol test suites against ordercast's Socket.IO
# construction (e2e/conformance): SOCKETIO_PROTOCOL_DIR and
# ENGINEIO_PROTOCOL_DIR are checkouts of socketio/socket.io-protocol and
# socketio/engine.io-protocol; CONFORMANCE_RUNS runs each suite that often.
conformance:
	e2e/conformance/run.sh
