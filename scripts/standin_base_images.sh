#!/usr/bin/env bash
# Builds LOCAL STAND-INS for the two base images the Dockerfile names, for a
# machine that cannot reach Docker Hub (but can reach Debian's mirrors):
#
#   debian:bookworm-slim  a `debootstrap --variant=minbase bookworm` rootfs,
#                         imported with `docker import`. (The real image is
#                         also a minbase bookworm, built by debuerreotype.)
#   rust:1-bookworm       that rootfs plus build-essential, pkg-config and
#                         ca-certificates, and a copy of THIS host's stable
#                         Rust toolchain (rustup proxies + toolchain, docs
#                         left out) under /usr/local/{rustup,cargo}, with
#                         the ENV of the official image. (The real image is
#                         buildpack-deps:bookworm, which has much more,
#                         e.g. libssl-dev, git, curl: this one is leaner.)
#
# On a machine whose egress intercepts TLS (as this one's does, for
# crates.io), the build stage's `cargo build` must trust the same local CAs
# as the host: the certificates in $EXTRA_CA_DIR (default
# /usr/local/share/ca-certificates, the host's) are added to the rust
# stand-in only. Set EXTRA_CA_DIR= (empty) to add none.
#
# These are NOT the official images; they only carry the same tags so the
# project's Dockerfile builds unchanged. Needs root, debootstrap and a
# running dockerd.
#
#   scripts/standin_base_images.sh            # scratch dir: /var/tmp/citebot-standin
set -euo pipefail
scratch=${SCRATCH:-/var/tmp/citebot-standin}
mirror=${MIRROR:-http://deb.debian.org/debian}
rustup_home=${RUSTUP_HOME_SRC:-$HOME/.rustup}
cargo_bin=${CARGO_BIN_SRC:-$HOME/.cargo/bin}
toolchain=${TOOLCHAIN:-stable-x86_64-unknown-linux-gnu}
extra_ca_dir=${EXTRA_CA_DIR-/usr/local/share/ca-certificates}
mkdir -p "$scratch"

# --- debian:bookworm-slim ------------------------------------------------
rootfs=$scratch/rootfs
# Every path below is under $rootfs: never let it be the host's root.
case $rootfs in /|"") echo "refusing: rootfs=$rootfs" >&2; exit 1 ;; esac
if [ ! -x "$rootfs/bin/bash" ]; then
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
fi
# The sources the official image has (main, updates, security), in deb822.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# What the official image adds to a minbase (debuerreotype's minimizing
# config, and slimify for -slim): apt keeps no package caches or
# translations, and dpkg skips docs, man pages and locales. The settings
# are the official ones; the comments in the real files are left out.
aptclean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
printf '%s\n' "DPkg::Post-Invoke { $aptclean };" "APT::Update::Post-Invoke { $aptclean };" \
    'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' \
    >"$rootfs/etc/apt/apt.conf.d/docker-clean"
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
echo 'force-unsafe-io' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/linda/*' 'path-exclude /usr/share/lintian/overrides/*' \
    'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/man/*' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
find "$rootfs/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
for d in groff info linda locale man lintian/overrides; do
    if [ -d "$rootfs/usr/share/$d" ]; then find "$rootfs/usr/share/$d" -mindepth 1 -delete; fi
done
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log "$rootfs"/tmp/*
tar -C "$rootfs" --numeric-owner -c . |
    docker import --change 'CMD ["bash"]' \
        --message 'stand-in for debian:bookworm-slim (debootstrap minbase)' \
        - debian:bookworm-slim

# --- rust:1-bookworm -------------------------------------------------------
# SKIP_RUST=1 re-imports only debian:bookworm-slim (keeping an existing rust
# stand-in, and with it Docker's cache of the project's build stage).
if [ -n "${SKIP_RUST:-}" ]; then
    docker images debian:bookworm-slim
    exit 0
fi
ctx=$scratch/rust-ctx
rm -rf "$ctx"
mkdir -p "$ctx/rustup/toolchains" "$ctx/cargo"
# Hard links: no extra disk for the context (same filesystem as $HOME).
cp -al "$rustup_home/toolchains/$toolchain" "$ctx/rustup/toolchains/"
rm -rf "$ctx/rustup/toolchains/$toolchain/share/doc"   # rust-docs, ~0.8 GB
cp -a "$rustup_home/settings.toml" "$ctx/rustup/"
[ -d "$rustup_home/update-hashes" ] && cp -a "$rustup_home/update-hashes" "$ctx/rustup/"
cp -a "$cargo_bin" "$ctx/cargo/bin"
mkdir -p "$ctx/extra-ca"
if [ -n "$extra_ca_dir" ] && [ -d "$extra_ca_dir" ]; then
    find "$extra_ca_dir" -maxdepth 1 -name '*.crt' -exec cp {} "$ctx/extra-ca/" \;
fi
version=$("$ctx/rustup/toolchains/$toolchain/bin/rustc" --version | awk '{print $2}')
cat >"$ctx/Dockerfile" <<EOF
FROM debian:bookworm-slim
RUN apt-get update \\
    && apt-get install -y --no-install-recommends build-essential pkg-config ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV RUSTUP_HOME=/usr/local/rustup \\
    CARGO_HOME=/usr/local/cargo \\
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    RUST_VERSION=$version
COPY rustup /usr/local/rustup
COPY cargo /usr/local/cargo
RUN rustc --version && cargo --version
EOF
docker build --network host -t rust:1-bookworm "$ctx"
rm -rf "$ctx"
docker images debian:bookworm-slim
docker images rust:1-bookworm
