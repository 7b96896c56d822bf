# The cluster image: kgrec with the `gpu` extra (vLLM) on the official Ray image for Python 3.11.
#   docker build -t <registry>/kgrec:0.1.0 . && docker push <registry>/kgrec:0.1.0
# infra/ray/rayjob.yaml runs it on every Ray node (head, CPU and GPU workers). The install is
# scripts/setup.sh's own (`image` mode), so the image installs what pyproject.toml says and
# nothing else; tests/unit/infra/test_dockerfile.py checks that it stays so.
ARG RAY_VERSION=2.60.0
FROM rayproject/ray:${RAY_VERSION}-py311-gpu
ENV PIP_NO_CACHE_DIR=1
WORKDIR /home/ray/kgrec
COPY --chown=ray:users . .
RUN scripts/setup.sh image
