# syntax=docker/dockerfile:1
# The app image (docs/deploy.md): `rag serve`, `rag ingest`, `rag models`, and the model server
# `python -m llama_cpp.server`, all from one virtual environment in /opt/venv.
#   docker build -t rag-grounded .                         (x86-64 machines with AVX2)
#   docker build --build-arg LLAMA_TIER=avx512 -t rag-grounded .
# Building needs the internet: PyPI, Debian, and PyTorch's CPU wheel index (torch from PyPI
# would pull CUDA). Not built here: this machine reaches package registries only.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /app

# llama-cpp-python from source with every CPU flag named and AMX off, never -march=native
# (scripts/llama_build.py, as `make install` does). The tier is a build argument, not the
# build machine's CPU: avx2 (default) runs on any x86-64 with AVX2, FMA, F16C, BMI2; avx512
# adds AVX-512 where the build machine has it, and the image then needs such a CPU; auto
# follows the build machine. Other architectures build llama.cpp's portable default.
ARG LLAMA_TIER=avx2
ARG LLAMA_VERSION=0.3.36
COPY scripts/llama_build.py scripts/llama_build.py
RUN RAG_LLAMA_TIER="${LLAMA_TIER}" RAG_WHEELHOUSE=/wheels \
      python scripts/llama_build.py wheel --version "${LLAMA_VERSION}" > /tmp/wheelhouse \
 && pip install --no-index --no-deps --find-links "$(cat /tmp/wheelhouse)" \
      "llama-cpp-python==${LLAMA_VERSION}"

# torch's CPU build (the version pyproject.toml pins), then the dependencies that pyproject.toml
# lists with its [postgres] extra, and llama_cpp.server's own two (the [server] extra's others
# are among them), in a layer that only pyproject.toml changes
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0
RUN pip install --index-url "${TORCH_INDEX}" "torch==${TORCH_VERSION}"
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" > /tmp/req.txt \
 && pip install -r /tmp/req.txt "starlette-context>=0.3.6,<0.4" "PyYAML>=5.1" \
 && python -c "import llama_cpp, torch; print(llama_cpp.__version__, torch.__version__)"

# the code, installed editable as `make install` does (rag/config.py finds corpus/ beside it)
COPY rag rag
COPY embeddings embeddings
COPY api api
COPY eval eval
COPY corpus corpus
RUN pip install --no-deps -e .


FROM ${PYTHON_IMAGE}
# libgomp1: llama.cpp's OpenMP threads (the wheel built above links the system's)
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin rag \
 && mkdir -p /models /var/lib/rag \
 && chown rag:rag /models /var/lib/rag
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    RAG_HOME=/var/lib/rag \
    RAG_MODELS_DIR=/models
WORKDIR /app
USER 10001:10001
# named volumes copy this ownership on first use: models (GGUF, the ONNX export) and RAG_HOME
VOLUME ["/models", "/var/lib/rag"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["rag", "serve", "--host", "0.0.0.0", "--port", "8000"]
