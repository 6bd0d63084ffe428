# SMS Bridge: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is Python 3.13. It may not be on PATH (pyenv keeps it aside, and its
# shim fails when 3.13 is not the selected version): take the first candidate that runs.
PYTHON313 ?= $(shell for p in $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13 \
	$$HOME/.pyenv/versions/3.13*/bin/python3.13 $$(command -v python3.13); do \
	"$$p" -c 'import sys' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The venv's bin first, so that `sam build` finds the python3.13 it looks for.
export PATH := $(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help install oracles checkov schemathesis lock-schemathesis test test-unit test-integration test-e2e lint validate build cold-start run demo console bench lock lock-oracles clean iam-report

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: install it (e.g. 'pyenv install 3.13') or set PYTHON313=/path/to/python3.13"; exit 1; }
	@test -x $(BIN)/python3.13 || $(PYTHON313) -m venv $(VENV)
	@# uv installs the same pins in about 6 s where pip takes most of a minute (make run on a fresh
	@# clone must serve within 30 s); plain pip remains the fallback.
	@{ $(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8 2>/dev/null && \
	  VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install --quiet -r requirements-dev.txt; } || \
	  $(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed ## Create .venv (Python 3.13) with the pinned dependencies

# Official SDKs whose pins clash with ours (the Infobip SDK needs pydantic 1 and requests 2.31) get a
# venv each under .venv/oracles/<name>, from tests/oracles/<name>.txt; the SDK wire tests run them in a
# subprocess. uv's cache makes a reinstall take about a second (the first ever builds regex from source).
ORACLES := $(patsubst tests/oracles/%.txt,%,$(wildcard tests/oracles/*.txt))

$(VENV)/oracles/%/.installed: tests/oracles/%.txt $(VENV)/.installed
	@rm -rf $(VENV)/oracles/$*
	@{ $(BIN)/uv venv --quiet --python $(BIN)/python3.13 $(VENV)/oracles/$* && \
	  $(BIN)/uv pip install --quiet --python $(VENV)/oracles/$*/bin/python -r $<; } || \
	  { rm -rf $(VENV)/oracles/$* && $(BIN)/python3.13 -m venv $(VENV)/oracles/$* && \
	    $(VENV)/oracles/$*/bin/pip install --quiet --disable-pip-version-check -r $<; }
	@touch $@

oracles: $(foreach oracle,$(ORACLES),$(VENV)/oracles/$(oracle)/.installed) ## The oracle SDKs' own venvs (.venv/oracles/*), for the SDK wire tests

# checkov (template.yaml's security checks) in a venv of its own, from the pinned .ci/checkov.txt.
$(VENV)/checkov/.installed: .ci/checkov.txt $(VENV)/.installed
	@rm -rf $(VENV)/checkov
	@{ $(BIN)/uv venv --quiet --python $(BIN)/python3.13 $(VENV)/checkov && \
	  $(BIN)/uv pip install --quiet --python $(VENV)/checkov/bin/python -r $<; } || \
	  { rm -rf $(VENV)/checkov && $(BIN)/python3.13 -m venv $(VENV)/checkov && \
	    $(VENV)/checkov/bin/pip install --quiet --disable-pip-version-check -r $<; }
	@touch $@

# Offline (--skip-download: no Prisma Cloud look-up). Every skipped check is written in template.yaml
# beside its resource, with its reason (tests/unit/test_template_checks.py). checkov exits 0 on a
# template it could not parse, so the run must also have reported its results.
checkov: $(VENV)/checkov/.installed ## checkov on template.yaml (SAM/CloudFormation): fails on any failed check
	@set -o pipefail; $(VENV)/checkov/bin/checkov --file template.yaml --framework cloudformation --compact --quiet \
	  --skip-download | tee $(VENV)/checkov/last-run.txt
	@grep -qE 'Passed checks: [1-9]' $(VENV)/checkov/last-run.txt || { echo "checkov checked nothing"; exit 1; }

# schemathesis and openapi-python-client (issue 15: the admin API's OpenAPI contract) in a venv of their own,
# from tests/schemathesis/tools.txt; tests/e2e/test_openapi_contract.py runs them against the local runtime.
$(VENV)/schemathesis/.installed: tests/schemathesis/tools.txt $(VENV)/.installed
	@rm -rf $(VENV)/schemathesis
	@{ $(BIN)/uv venv --quiet --python $(BIN)/python3.13 $(VENV)/schemathesis && \
	  $(BIN)/uv pip install --quiet --python $(VENV)/schemathesis/bin/python -r $<; } || \
	  { rm -rf $(VENV)/schemathesis && $(BIN)/python3.13 -m venv $(VENV)/schemathesis && \
	    $(VENV)/schemathesis/bin/pip install --quiet --disable-pip-version-check -r $<; }
	@touch $@

schemathesis: $(VENV)/schemathesis/.installed ## schemathesis and openapi-python-client in .venv/schemathesis (the OpenAPI contract tests)

test: install oracles schemathesis ## Install, then run every test (unit, integration, end-to-end)
	$(BIN)/python -m pytest

test-unit: install ## Only the unit tests (network off)
	$(BIN)/python -m pytest tests/unit

test-integration: install oracles ## Only the integration tests (moto, loopback servers)
	$(BIN)/python -m pytest tests/integration

test-e2e: install schemathesis ## Only the end-to-end tests (the local runtime over HTTP)
	$(BIN)/python -m pytest tests/e2e

# Every AWS call a function makes runs through the local IAM check (docs/iam.md); this records the
# (function, action, resource) triples of the e2e tests and the demo, then prints them against each
# function's policy and lists the grants nothing used. IAM_SUITES=tests adds the other suites' paths.
IAM_SUITES ?= tests/e2e
IAM_RECORD := $(CURDIR)/$(VENV)/iam-used.jsonl
iam-report: install ## What each function used of AWS in the e2e tests and the demo, against its IAM policy
	rm -f $(IAM_RECORD)
	SMSBRIDGE_IAM_RECORD=$(IAM_RECORD) $(BIN)/python -m pytest $(IAM_SUITES) -q
	SMSBRIDGE_IAM_RECORD=$(IAM_RECORD) $(BIN)/python -m local.demo
	$(BIN)/python -m local.iam_report $(IAM_RECORD)

validate: install ## sam validate --lint
	$(BIN)/sam validate --lint

build: install ## sam build (no container); the layer comes precompiled (layers/common/Makefile)
	$(BIN)/sam build

cold-start: build ## Import each built function as Lambda would: layer complete and precompiled, import times
	$(BIN)/python bench/cold_imports.py $(LAMBDA_RUNTIME_PACKAGES)

run: install ## Start the whole system locally (moto, API, poller, scheduler, sandbox provider)
	$(BIN)/python -m local.runtime

demo: install ## Run the scripted end-to-end scenario against a fresh local stack
	$(BIN)/python -m local.demo

# The console against a deployed stack: the stack's region comes from samconfig.toml, AWS_REGION or the
# profile, so the us-east-1 fallback this Makefile exports for sam must not hide the profile's region.
STAGE ?= dev
console: install ## The console for a deployed stack on 127.0.0.1 (STAGE=dev|staging|prod; your AWS credentials sign its API calls)
	$(if $(filter file,$(origin AWS_DEFAULT_REGION)),env -u AWS_DEFAULT_REGION) $(BIN)/python -m local.console_proxy --stage $(STAGE)

# mutmut gets a venv of its own, .venv/mutmut (installed into .venv it upgrades click, which breaks
# aws-sam-cli), whose .pth file appends .venv's site-packages, so that the unit tests find the project's
# packages behind mutmut's own: about a second from uv's cache, no second copy of the dependencies.
MUTATION_THRESHOLD ?= 85
MUTMUT_SITE = $(VENV)/mutmut/lib/python3.13/site-packages

$(VENV)/mutmut/.installed: tools/mutation/requirements.txt $(VENV)/.installed
	@rm -rf $(VENV)/mutmut
	@{ $(BIN)/uv venv --quiet --python $(BIN)/python3.13 $(VENV)/mutmut && \
	  $(BIN)/uv pip install --quiet --python $(VENV)/mutmut/bin/python -r $<; } || \
	  { rm -rf $(VENV)/mutmut && $(BIN)/python3.13 -m venv $(VENV)/mutmut && \
	    $(VENV)/mutmut/bin/pip install --quiet --disable-pip-version-check -r $<; }
	@echo "import site; site.addsitedir('$(CURDIR)/$(VENV)/lib/python3.13/site-packages')" > $(MUTMUT_SITE)/zz-smsbridge-project.pth
	@touch $@

.PHONY: mutation
mutation: $(VENV)/mutmut/.installed ## Mutation testing of core/ (inbound schemes included) against tests/unit; fails under MUTATION_THRESHOLD % (85)
	$(VENV)/mutmut/bin/python tools/mutation/run.py --threshold $(MUTATION_THRESHOLD)

.PHONY: mutation-claims
mutation-claims: $(VENV)/mutmut/.installed ## Each weakness docs/testing.md names: its test passes on the code and fails on its mutant
	$(VENV)/mutmut/bin/python tools/mutation/claims.py

bench: install ## Benchmarks: print the ratios of bench/, then the local runtime's idle latency and rate
	$(BIN)/python bench/send_bench.py
	$(BIN)/python bench/local_latency.py
	$(BIN)/python bench/local_throughput.py

.PHONY: chaos chaos-short
CHAOS_MESSAGES ?= 5000
CHAOS_KILLS ?= 20
chaos: install ## Fault run on the local runtime (CHAOS_MESSAGES=5000 CHAOS_KILLS=20): lost, duplicates, poison, forged, 5xx
	CHAOS_MESSAGES=$(CHAOS_MESSAGES) CHAOS_KILLS=$(CHAOS_KILLS) $(BIN)/python -m bench.chaos

chaos-short: install ## The short fault run .ci/run makes (300 messages, 3 kills, about 2 minutes)
	$(BIN)/python -m bench.chaos --messages 300 --kills 3 --rate 30 --drain 150

# Packages the Lambda python3.13 runtime ships: left out of the layer.
LAMBDA_RUNTIME_PACKAGES := boto3 botocore s3transfer jmespath python-dateutil six

lock: ## Re-pin requirements-dev.txt from requirements.in, then the layer's requirements.txt to match
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found"; exit 1; }
	rm -rf /tmp/smsbridge-lock && $(PYTHON313) -m venv /tmp/smsbridge-lock
	/tmp/smsbridge-lock/bin/pip install --quiet -r requirements.in
	(echo "# Generated by 'make lock' from requirements.in: do not edit by hand."; /tmp/smsbridge-lock/bin/pip freeze) > requirements-dev.txt
	/tmp/smsbridge-lock/bin/pip install --quiet --dry-run --ignore-installed --report /tmp/smsbridge-lock/layer.json \
		-r layers/common/requirements.in -c requirements-dev.txt
	/tmp/smsbridge-lock/bin/python -c 'import json, sys; skip = set(sys.argv[1:]); \
		pins = sorted((i["metadata"]["name"], i["metadata"]["version"]) for i in json.load(open("/tmp/smsbridge-lock/layer.json"))["install"]); \
		print("# Generated by make lock from requirements.in (the Lambda runtime has: " + " ".join(sorted(skip)) + ")"); \
		[print(f"{n}=={v}") for n, v in pins if n.lower().replace("_", "-") not in skip]' \
		$(LAMBDA_RUNTIME_PACKAGES) > layers/common/requirements.txt

lock-oracles: ## Re-pin each tests/oracles/<name>.txt from its <name>.in, as lock does (a fresh venv, pip freeze)
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found"; exit 1; }
	@for spec in tests/oracles/*.in; do name=$$(basename $$spec .in); \
		rm -rf /tmp/smsbridge-lock-$$name && $(PYTHON313) -m venv /tmp/smsbridge-lock-$$name && \
		/tmp/smsbridge-lock-$$name/bin/pip install --quiet -r $$spec && \
		{ echo "# Generated by 'make lock-oracles' from $$name.in: do not edit by hand."; \
		  /tmp/smsbridge-lock-$$name/bin/pip freeze --all --exclude pip; } > tests/oracles/$$name.txt || exit 1; done

lock-schemathesis: ## Re-pin tests/schemathesis/tools.txt from tools.in (a fresh venv, pip freeze)
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found"; exit 1; }
	rm -rf /tmp/smsbridge-lock-schemathesis && $(PYTHON313) -m venv /tmp/smsbridge-lock-schemathesis
	/tmp/smsbridge-lock-schemathesis/bin/pip install --quiet -r tests/schemathesis/tools.in
	{ echo "# Generated by 'make lock-schemathesis' from tools.in: do not edit by hand."; \
	  /tmp/smsbridge-lock-schemathesis/bin/pip freeze --exclude pip; } > tests/schemathesis/tools.txt

clean: ## Remove the venv and build output
	rm -rf $(VENV) .aws-sam .pytest_cache .hypothesis
