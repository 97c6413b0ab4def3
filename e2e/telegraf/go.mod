module github.com/pantau-noc/pantau/e2e/telegraf

go 1.26

require github.com/influxdata/telegraf v1.37.2
