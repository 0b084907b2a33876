# Quick start: `make demo` and `make test` on a fresh machine (they create .venv).
# `make demo-train` remakes the demo's shipped weights from scratch (see docs/training.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_output
DEMO_TRAIN_DIR ?= demo_train
# Tests in parallel processes (TensorFlow also threads inside each).
TEST_WORKERS ?= 2

.PHONY: demo demo-train demo-pipeline test venv clean

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

demo-train: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m seg2vid_tf.demo_train --output_dir=$(DEMO_TRAIN_DIR)

# Label map -> video end to end is what `make demo` does now; kept as its old name.
demo-pipeline: demo
