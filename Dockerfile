# One Onstage node (docker-compose.yml builds it). The mediasoup worker is built from the npm
# tarball's sources, as on a bare machine (scripts/setup.sh), so the image needs no prebuilt download.
FROM debian:bookworm
WORKDIR /app
COPY . .
RUN bash scripts/setup.sh --server-only && rm -rf /var/lib/apt/lists/*
ENV HOST=0.0.0.0 DATA_DIR=/data
VOLUME /data
# Signalling + pages; the operator's port (health, metrics) when OPS_PORT is set. WebRTC ports
# (RTC_PORT … RTC_PORT + WORKERS - 1, UDP and TCP) depend on the node's settings: publish them per node.
EXPOSE 3000 9100
STOPSIGNAL SIGTERM
CMD ["npm", "start"]
