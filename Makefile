# Two commands do everything on a fresh machine (Python 3.11+, PyPI reachable, no Galaxy needed):
#   make demo   publish a layer against a local AWS endpoint, again unchanged, then a check-mode diff
#   make test   sanity, unit and integration tests (the command CI runs)
.PHONY: demo test setup sanity units integration lint docs release bench bench-realistic clean

demo:
	bash scripts/demo.sh

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

clean:
	rm -rf .venv .cache tests/output
