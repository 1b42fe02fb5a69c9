# certdeploy: multi-stage build on Debian bookworm; runs as a non-root user.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libmicrohttpd-dev libpq-dev libssl-dev libcurl4-openssl-dev libjansson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts/embed-schema.sh scripts/
COPY lib lib
COPY server server
COPY mockca mockca
COPY agent agent
COPY db db
RUN make -j"$(nproc)" all

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 libpq5 libssl3 libcurl4 \
      libjansson4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/certdeploy --create-home --shell /usr/sbin/nologin certdeploy
COPY --from=build /src/build/certdeployd /src/build/certdeploy-mockca /src/build/certdeploy-agent /usr/local/bin/
COPY web-ui /usr/share/certdeploy/web-ui
USER certdeploy
WORKDIR /var/lib/certdeploy
ENV CERTDEPLOY_LISTEN=0.0.0.0:8443 \
    CERTDEPLOY_STATE_DIR=/var/lib/certdeploy \
    CERTDEPLOY_WEB_DIR=/usr/share/certdeploy/web-ui \
    CERTDEPLOY_LOG_FORMAT=json
VOLUME /var/lib/certdeploy
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/certdeployd"]
