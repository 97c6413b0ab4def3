module github.com/prometheus-community/prom-label-proxy

go 1.25.0

require github.com/prometheus/prometheus v0.316.0
