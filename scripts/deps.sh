#!/usr/bin/env bash
# deps.sh — installs, from Debian's packages, what building and testing tribune needs, if missing.
# It says exactly which packages it installs; with everything present it only says so.
set -euo pipefail

# command-or-file probe : package
needs=(
  "cc:gcc"
  "make:make"
  "clang:clang"
  "musl-gcc:musl-tools"
  "mandoc:mandoc"
  "ip:iproute2"
  "python3:python3"
  "file:/usr/include/cmocka.h:libcmocka-dev"
  "file:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev"
)

missing=()
for n in "${needs[@]}"; do
  if [[ $n == file:* ]]; then
    rest=${n#file:}; path=${rest%%:*}; pkg=${rest##*:}
    # clang's runtime lives under a versioned path; any version's fuzzer runtime will do.
    if [[ $pkg == libclang-rt-14-dev ]]; then
      compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null && continue
    fi
    [[ -e $path ]] || missing+=("$pkg")
  else
    cmd=${n%%:*}; pkg=${n##*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "deps.sh: all build and test dependencies present"
  exit 0
fi

echo "deps.sh: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "deps.sh: not root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: installed ${missing[*]}"
