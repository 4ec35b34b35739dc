# `make test` is the one command that installs what the tests need and runs
# them all (CI runs it through .ci/run).
GO              ?= go
GOBIN           := $(shell $(GO) env GOPATH)/bin
STATICCHECK     := honnef.co/go/tools/cmd/staticcheck@v0.8.2
KUBELOGIN       := github.com/Azure/kubelogin@v0.2.22

.PHONY: test deps lint unit bench

test: deps lint unit

# Tools the tests use: staticcheck, and for the end-to-end tests the real
# az (Debian's azure-cli 2.45) and kubelogin (its go.mod needs a newer Go
# toolchain, which the module proxy serves) and Chromium for the sign-in pages; npm for the benchmarks' peer (oidc-provider);
# PostgreSQL, which the store tests start as a throwaway server;
# for the clusters' API servers Debian's etcd and kube-apiserver, built once
# (minutes) from tools/kube-apiserver into $(GOBIN), where aksid looks.
# Only what is missing is asked of apt: a machine whose Node.js came from
# NodeSource (npm included) cannot take Debian's npm beside it.
deps:
	@test -x $(GOBIN)/staticcheck || GOFLAGS=-buildvcs=false $(GO) install $(STATICCHECK)
	@test -x $(GOBIN)/kubelogin || GOTOOLCHAIN=go1.26.10 GOFLAGS=-buildvcs=false $(GO) install $(KUBELOGIN)
	@pkgs=""; \
	command -v az >/dev/null || pkgs="$$pkgs azure-cli"; \
	command -v chromium >/dev/null || pkgs="$$pkgs chromium"; \
	command -v etcd >/dev/null || pkgs="$$pkgs etcd-server"; \
	command -v npm >/dev/null || pkgs="$$pkgs nodejs npm"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || pkgs="$$pkgs postgresql"; \
	test -d /usr/lib/python3/dist-packages/azure/mgmt/containerservice || pkgs="$$pkgs python3-azure"; \
	test -d /usr/lib/python3/dist-packages/msal || pkgs="$$pkgs python3-msal"; \
	test -z "$$pkgs" || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; }
	@GOFLAGS=-buildvcs=false $(GO) run ./internal/apiserver/buildkas -dir $(GOBIN) >/dev/null

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...

# The race detector covers ./internal/..., where the concurrency lives, so
# a data race fails CI; the CLI, the end-to-end, layer and witness tests
# and the benchmarks' compile run without it. What tests keep (the
# portal's screenshots) lands in artifacts/.
unit:
	$(GO) test -race -count=1 -timeout 20m ./internal/...
	@mkdir -p artifacts
	$(GO) test -count=1 -timeout 20m -artifacts -outputdir $(CURDIR)/artifacts $$($(GO) list ./... | grep -v '/internal/')
	CGO_ENABLED=0 $(GO) test -count=1 ./internal/rsasign

# Performance checks (not part of `make test`): each benchmark logs its
# figure beside the README's target and fails when it misses it.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./bench/
