# Everything runs inside .venv; parcelwatch's top-level packages (watcher, carriers,
# notifiers) share names with unrelated PyPI projects, so never install it globally.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/parcelwatch --config config/demo.toml demo

# pytest exits 5 when it collected nothing: treat that as a failure, not a pass.
test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python bench/poll.py
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# Regenerates docs/report-phone.png and docs/report-zh-phone.png (report.language = "zh-CN"):
# the demo's stall report rendered by headless Chromium
# (Debian packages chromium and fonts-noto-cjk, installed here when missing; needs root).
screenshot: $(STAMP)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)
	$(BIN)/parcelwatch --config config/demo.toml demo > /dev/null
	mkdir -p build && cp parcelwatch-demo.db build/demo-zh.db  # the same report twice: each run moves "new"
	$(BIN)/parcelwatch --config config/demo.toml report --format html --output build/report.html
	PARCELWATCH_REPORT__LANGUAGE=zh-CN PARCELWATCH_DATABASE__URL=sqlite:///build/demo-zh.db \
	  $(BIN)/parcelwatch --config config/demo.toml report --format html --output build/report-zh.html
	for page in report report-zh; do \
	  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync --user-data-dir=build/chromium-profile --hide-scrollbars \
	    --window-size=420,2400 --screenshot=docs/$$page-phone.png file://$(CURDIR)/build/$$page.html; \
	done
