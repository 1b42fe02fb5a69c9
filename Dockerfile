# certdeploy: multi-stage build on Debian bookworm; the runtime image has the
# layout of `make install PREFIX=/usr` (certdeployd in /usr/sbin, the
# dashboard in /usr/share/certdeploy/web-ui, man pages) and runs as the
# non-root user certdeploy with its state in /var/lib/certdeploy, as the
# systemd unit does. Settings are the same environment variables
# (certdeployd --help); docker-compose.yml adds PostgreSQL.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libmicrohttpd-dev libpq-dev libssl-dev libcurl4-openssl-dev libjansson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts/embed-schema.sh scripts/install.sh scripts/
COPY lib lib
COPY server server
COPY mockca mockca
COPY agent agent
COPY db db
COPY web-ui web-ui
COPY man man
COPY systemd systemd
RUN make -j"$(nproc)" all \
 && DESTDIR=/out PREFIX=/usr bash scripts/install.sh \
 && rm -rf /out/usr/lib/systemd /out/etc

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 libpq5 libssl3 libcurl4 \
      libjansson4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/certdeploy --create-home --shell /usr/sbin/nologin certdeploy \
 && chmod 700 /var/lib/certdeploy
COPY --from=build /out/ /
USER certdeploy
WORKDIR /var/lib/certdeploy
ENV CERTDEPLOY_LISTEN=0.0.0.0:8443 \
    CERTDEPLOY_STATE_DIR=/var/lib/certdeploy \
    CERTDEPLOY_WEB_DIR=/usr/share/certdeploy/web-ui \
    CERTDEPLOY_LOG_FORMAT=json
VOLUME /var/lib/certdeploy
EXPOSE 8443
ENTRYPOINT ["/usr/sbin/certdeployd"]
