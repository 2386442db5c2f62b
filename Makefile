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

# Regenerates docs/report-phone.png: the demo's stall report rendered by headless Chromium
# (Debian packages chromium and fonts-noto-cjk, installed here when missing; needs root).
screenshot: $(STAMP)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)
	$(BIN)/parcelwatch --config config/demo.toml demo > /dev/null
	$(BIN)/parcelwatch --config config/demo.toml report --format html --output build/report.html
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	  --disable-component-update --disable-sync --user-data-dir=build/chromium-profile --hide-scrollbars \
	  --window-size=420,2400 --screenshot=docs/report-phone.png file://$(CURDIR)/build/report.html
