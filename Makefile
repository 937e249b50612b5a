# vpn-passthrough: `make` builds the packages, `make test` runs every test.
# Outputs go to dist/. See README.md.

NPM_STAMP := node_modules/.package-lock.json
TSC := node_modules/.bin/tsc

.PHONY: all bundle packages typecheck test test-tools bench firmware clean

all: packages

# npm writes node_modules/.package-lock.json on every install: when it is
# older than our lock file, install again (from the lock file, exactly).
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

bundle: $(NPM_STAMP)
	node build/bundle.mjs

packages: bundle
	node build/ipk.mjs
	node build/apk.mjs

typecheck: $(NPM_STAMP)
	$(TSC) -p tsconfig.json
	$(TSC) -p test/tsconfig.json

test-tools:
	sh build/test-tools.sh

# T=substring runs only the matching test files.
test: packages typecheck test-tools
	node build/test.mjs $(T)

bench: packages test-tools
	node build/bench.mjs

# Flash onto a router: our packages and their dependencies baked into an image
# by an unpacked OpenWrt Image Builder (README, "Flash it"):
#   make firmware IMAGEBUILDER=DIR [PROFILE=device] [EXTRA_PACKAGES="luci ..."]
# Without IMAGEBUILDER it says how to get one, before building anything.
firmware: $(NPM_STAMP)
	@node build/firmware.mjs check IMAGEBUILDER="$(IMAGEBUILDER)"
	@$(MAKE) --no-print-directory packages
	node build/firmware.mjs image IMAGEBUILDER="$(IMAGEBUILDER)" PROFILE="$(PROFILE)" EXTRA_PACKAGES="$(EXTRA_PACKAGES)"

clean:
	rm -rf dist
