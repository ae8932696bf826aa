# citebot: build with rustls (no system OpenSSL), run as a non-root user.
#   docker build -t citebot .
#   docker build --build-arg HF_ENDPOINT=https://hf-mirror.example -t citebot .   # behind a Hub mirror
#   docker run --rm -e TELOXIDE_TOKEN=123:abc citebot            # the bot (default)
#   docker run --rm --network none citebot ask "Why does China matter to so many countries?"
#
# The image carries the sentence-embedding model: the build fetches it once
# from the Hugging Face Hub (checked against pinned sha256s) into the image's
# Hugging Face cache, so the container needs no network to use it.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin citebot
ENV HF_HOME=/hf
# A Hub mirror can be named with --build-arg HF_ENDPOINT=...; the value is
# seen only by this RUN (an ARG of the build stage), not by the run stage.
ARG HF_ENDPOINT=https://huggingface.co
RUN HF_ENDPOINT="$HF_ENDPOINT" ./target/release/citebot model fetch

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app citebot
WORKDIR /app
COPY --from=build /src/target/release/citebot /usr/local/bin/citebot
COPY corpus corpus
COPY config config
COPY --from=build /hf /app/hf
ENV HF_HOME=/app/hf HF_HUB_OFFLINE=1
RUN mkdir data && chown citebot:citebot data
USER citebot
# The index is built into /app/data on first start; mount a volume there to keep it.
VOLUME ["/app/data"]
ENTRYPOINT ["citebot"]
CMD ["serve"]
