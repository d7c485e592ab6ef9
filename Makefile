# sluice: build, run against local servers, test and benchmark.
# Every target that needs MariaDB and Kafka starts them first (make up): they
# are installed on the first run and run as local processes on 127.0.0.1.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
BIN := bin/sluice
LOCAL := deploy/local
LOCAL_DIR := $(or $(SLUICE_LOCAL_DIR),$(CURDIR)/.local)

# Settings for `make run`: the local MariaDB from deploy/local and the
# sample database. Any SLUICE_* variable set in the environment wins.
export SLUICE_MYSQL_HOST ?= 127.0.0.1
export SLUICE_MYSQL_PORT ?= $(or $(MARIADB_PORT),3307)
export SLUICE_MYSQL_USER ?= sluice
export SLUICE_MYSQL_PASSWORD ?= sluice
export SLUICE_SERVER_ID ?= 1001
export SLUICE_KAFKA_BROKERS ?= 127.0.0.1:$(or $(KAFKA_PORT),9092)
export SLUICE_TOPIC_PREFIX ?= sluice
export SLUICE_DATABASES ?= shop
export SLUICE_OFFSETS_DIR ?= $(LOCAL_DIR)/offsets
export SLUICE_SCHEMA_REGISTRY_URL ?= http://127.0.0.1:$(or $(APICURIO_PORT),8081)/apis/ccompat/v7

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: up
up: ## Install (first run) and start MariaDB, Kafka, kcat, Azurite, PostgreSQL and Apicurio on 127.0.0.1.
	@$(LOCAL)/up.sh

.PHONY: down
down: ## Stop the local servers; their data is kept.
	@$(LOCAL)/down.sh

.PHONY: build
build: ## Build the static binary bin/sluice.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/sluice

.PHONY: run
run: up build ## Stream the sample database "shop" into Kafka.
	@$(LOCAL)/sample.sh
	@echo
	@echo "Watch the records, in another terminal:"
	@echo "  kcat -b $(SLUICE_KAFKA_BROKERS) -G watch-shop -X auto.offset.reset=earliest -X topic.metadata.refresh.interval.ms=2000 -f '%t %k %s\n\n' '^$(SLUICE_TOPIC_PREFIX)[.]shop[.].*'"
	@echo "Make changes to watch, in a third terminal:"
	@echo "  $(LOCAL)/sample-writes.sh      (or: $(LOCAL)/mariadb.sh client shop)"
	@echo
	$(BIN)

.PHONY: demo
demo: ## Make 20 changes to the sample database, one per second.
	@$(LOCAL)/sample-writes.sh

.PHONY: test
test: up ## Run the unit tests and the integration tests against the local servers.
	@unformatted=$$(gofmt -l cmd source schema codec sink offsets deploy integration); \
	if [ -n "$$unformatted" ]; then echo "run gofmt -w on: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./integration/... ./cmd/sluice/
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags integration -timeout 60m ./integration/... ./cmd/sluice/

.PHONY: test-unit
test-unit: ## Run only the unit tests (no servers needed).
	$(GO) test -count=1 ./...

.PHONY: crash
crash: up ## Kill sluice 100 times under load with each position tracker and print what was lost or duplicated.
	@set -o pipefail; SLUICE_CRASH_KILLS=$${SLUICE_CRASH_KILLS:-100} $(GO) test -count=1 -tags integration -timeout 120m \
		-run 'TestCrashEveryTracker' -v ./integration/ | grep -E 'kills during|^(--- |ok|FAIL|PASS)'

.PHONY: bench
bench: up build ## Measure sluice against the binlog-read and Kafka-produce ceilings.
	$(GO) run ./integration/bench

.PHONY: clean
clean: ## Remove built binaries.
	rm -rf bin
