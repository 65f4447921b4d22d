# Two commands do everything on a fresh machine (Python 3.11+, PyPI reachable, no Galaxy needed):
#   make demo   publish a layer against a local AWS endpoint, again unchanged, then a check-mode diff
#   make shell  then: a shell to use the collection (ansible-doc, ansible-playbook, a local endpoint)
#   make test   sanity, unit and integration tests (the command CI runs)
.PHONY: demo shell test setup sanity units integration examples lint docs release bench bench-realistic load clean

demo:
	bash scripts/demo.sh

shell:
	@bash scripts/shell.sh

test:
	bash scripts/test.sh

setup:
	bash scripts/setup-env.sh

sanity:
	bash scripts/ansible-test.sh sanity

units:
	bash scripts/ansible-test.sh units

integration:
	bash scripts/ansible-test.sh integration

examples:
	bash scripts/examples.sh

lint:
	bash scripts/lint.sh

docs:
	bash scripts/docs-site.sh

release:
	bash scripts/changelog.sh release

bench:
	bash benchmarks/run.sh

bench-realistic:
	bash benchmarks/run.sh realistic

# 4 concurrent lambda_layer_versions runs of 50 layers and 10 lambda_layer_version runs on one
# layer, behind a proxy holding Lambda's quota (15 requests/s); LOAD_ARGS for other sizes.
load:
	bash scripts/load-test.sh $(LOAD_ARGS)

clean:
	rm -rf .venv .cache tests/output
