//go:build tools

// Package telegraf pins the Telegraf release that the e2e tests build
// (with only the plugins they need) and run against a real collector.
package telegraf

import _ "github.com/influxdata/telegraf/cmd/telegraf"
