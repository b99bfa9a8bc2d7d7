# Prometheus from Debian 12's package, for the compose file's `monitoring`
# profile: it builds where no registry is reachable, from the same base
# image as deploy/Dockerfile.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends prometheus >/dev/null && \
    rm -rf /var/lib/apt/lists/* && \
    install -d -o prometheus -g prometheus /var/lib/prometheus
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", \
     "--storage.tsdb.path=/var/lib/prometheus", \
     "--web.listen-address=0.0.0.0:9090"]
