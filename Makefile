# Quick start: `make demo` and `make test` on a fresh machine (they create .venv).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_output
# Tests in parallel processes (TensorFlow also threads inside each).
TEST_WORKERS ?= 2

.PHONY: demo test venv clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m seg2vid_tf.demo --output_dir=$(DEMO_DIR)

test: $(STAMP)
	tools/install_chromium.sh
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q -n $(TEST_WORKERS) --durations=15

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info

.PHONY: demo-pipeline

# Stage 1 (pix2pixHD) on the demo data, then label map -> video end to end (needs `make demo` first).
demo-pipeline: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m seg2vid_tf.demo_pipeline --output_dir=$(DEMO_DIR)
