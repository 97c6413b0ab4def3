// Package schema is wire schema v1: the measurements Pantau's own agent
// writes, the type of each field, and the rule that turns a measurement
// and field into a Prometheus series name. The collector checks writes
// against it; the agent's tests check its output against it.
package schema

import (
	"strings"
)

// Kind is the value type a field must have.
type Kind uint8

const (
	// Float fields accept float, integer and unsigned values.
	Float Kind = iota + 1
	// Ratio fields are floats within 0..1.
	Ratio
	// Int fields must be line-protocol integers (suffix i).
	Int
	// Uint fields (counters, counts) accept unsigned values and
	// non-negative integers.
	Uint
)

func (k Kind) String() string {
	switch k {
	case Float:
		return "float"
	case Ratio:
		return "ratio (float 0..1)"
	case Int:
		return "integer"
	case Uint:
		return "unsigned integer"
	}
	return "unknown"
}

// ValueType is the line-protocol type a field was written with.
type ValueType uint8

// Value types of line protocol (strings are never a v1 field).
const (
	FloatValue ValueType = iota
	IntValue
	UintValue
	BoolValue
)

// Accepts reports whether a field of kind k may be written as a value of
// type t whose number is v: the rule the collector enforces (a batch
// with one refused field is refused whole) and the agent checks before
// it queues a point.
func (k Kind) Accepts(t ValueType, v float64) bool {
	switch k {
	case Int:
		return t == IntValue
	case Uint:
		return t == UintValue || t == IntValue && v >= 0
	case Ratio:
		return t != BoolValue && v >= 0 && v <= 1 // false for NaN too
	case Float:
		return t != BoolValue
	}
	return true
}

// Measurement describes one v1 measurement.
type Measurement struct {
	Tags   []string
	Fields map[string]Kind
	// Renamed maps a field's former name to its current one. Writers that
	// still send the former name (an agent older than the rename) are
	// accepted: the field is checked and stored under its current name.
	Renamed map[string]string
	// Help is each field's HELP text, as the query API's metadata and
	// /federate give it (TestV1Help: every field has one).
	Help map[string]string
}

// MetricPrefix starts every series name.
const MetricPrefix = "pantau_"

// V1 is schema v1 as ARCHITECTURE.md defines it.
var V1 = map[string]Measurement{
	"icmp": {
		Tags: []string{"agent", "site", "target", "name"},
		Fields: map[string]Kind{
			"packets_sent": Uint, "packets_received": Uint, "loss_ratio": Ratio,
			"rtt_min_seconds": Float, "rtt_avg_seconds": Float, "rtt_max_seconds": Float,
			"rtt_stddev_seconds": Float, "jitter_seconds": Float, "up": Int,
		},
		Help: map[string]string{
			"packets_sent":       "ICMP echo requests sent to the target in the probe round.",
			"packets_received":   "ICMP echo replies received from the target in the probe round.",
			"loss_ratio":         "Share of the round's echo requests without a reply (0 to 1).",
			"rtt_min_seconds":    "Shortest round-trip time of the round's replies.",
			"rtt_avg_seconds":    "Mean round-trip time of the round's replies.",
			"rtt_max_seconds":    "Longest round-trip time of the round's replies.",
			"rtt_stddev_seconds": "Standard deviation of the round's round-trip times.",
			"jitter_seconds":     "Mean absolute difference of consecutive round-trip times in the round.",
			"up":                 "1 if the target answered at least one echo request in the round, else 0.",
		},
	},
	"snmp_if": {
		Tags: []string{"agent", "site", "device", "ifindex", "ifname", "ifalias"},
		Fields: map[string]Kind{
			"receive_bytes_total": Uint, "transmit_bytes_total": Uint,
			"receive_packets_total": Uint, "transmit_packets_total": Uint,
			"receive_errors_total": Uint, "transmit_errors_total": Uint,
			"receive_discards_total": Uint, "transmit_discards_total": Uint,
			"receive_bits_per_second": Float, "transmit_bits_per_second": Float,
			"speed_bits_per_second": Uint, "oper_status": Int, "admin_status": Int,
		},
		Help: map[string]string{
			"receive_bytes_total":      "Bytes received on the interface (IF-MIB ifHCInOctets, ifInOctets without 64-bit counters).",
			"transmit_bytes_total":     "Bytes sent on the interface (IF-MIB ifHCOutOctets, ifOutOctets without 64-bit counters).",
			"receive_packets_total":    "Unicast packets received on the interface (IF-MIB ifHCInUcastPkts).",
			"transmit_packets_total":   "Unicast packets sent on the interface (IF-MIB ifHCOutUcastPkts).",
			"receive_errors_total":     "Inbound packets with errors (IF-MIB ifInErrors).",
			"transmit_errors_total":    "Outbound packets that could not be sent because of errors (IF-MIB ifOutErrors).",
			"receive_discards_total":   "Inbound packets discarded without an error, e.g. for lack of buffer space (IF-MIB ifInDiscards).",
			"transmit_discards_total":  "Outbound packets discarded without an error (IF-MIB ifOutDiscards).",
			"receive_bits_per_second":  "Inbound traffic rate between the last two polls, from the byte counter (wrap- and reset-safe).",
			"transmit_bits_per_second": "Outbound traffic rate between the last two polls, from the byte counter (wrap- and reset-safe).",
			"speed_bits_per_second":    "Interface speed the device reports (IF-MIB ifHighSpeed, else ifSpeed).",
			"oper_status":              "Operational status (IF-MIB ifOperStatus: 1 up, 2 down, 3 testing, 4 unknown, 5 dormant, 6 notPresent, 7 lowerLayerDown).",
			"admin_status":             "Administrative status (IF-MIB ifAdminStatus: 1 up, 2 down, 3 testing).",
		},
	},
	"snmp_device": {
		Tags: []string{"agent", "site", "device", "sysname"},
		Fields: map[string]Kind{
			"up": Int, "uptime_seconds": Float, "poll_duration_seconds": Float,
			"cpu_load_ratio": Ratio, "memory_used_ratio": Ratio,
		},
		Help: map[string]string{
			"up":                    "1 if the device answered the SNMP poll, else 0.",
			"uptime_seconds":        "Time since the device's SNMP agent started (SNMPv2-MIB sysUpTime).",
			"poll_duration_seconds": "Time the SNMP poll of the device took.",
			"cpu_load_ratio":        "Average processor load (HOST-RESOURCES-MIB hrProcessorLoad, 0 to 1).",
			"memory_used_ratio":     "Share of the device's memory in use (0 to 1).",
		},
	},
	// The vendor profiles' measurements (docs/agent.md "Vendor
	// profiles"): each field only where the device reports it.
	"snmp_radio": {
		Tags: []string{"agent", "site", "device", "ifname", "peer"},
		Fields: map[string]Kind{
			"signal_dbm": Float, "noise_dbm": Float, "snr_db": Float, "ccq_ratio": Ratio,
			"tx_rate_bits_per_second": Float, "rx_rate_bits_per_second": Float,
			"frequency_hertz": Float, "clients": Float,
		},
		Help: map[string]string{
			"signal_dbm":              "Received signal strength of the radio interface, or of one peer of its registration table (dBm).",
			"noise_dbm":               "Noise floor of the radio interface (dBm).",
			"snr_db":                  "Signal-to-noise ratio of the radio interface or peer (dB).",
			"ccq_ratio":               "Client connection quality of the radio interface or peer (0 to 1).",
			"tx_rate_bits_per_second": "Transmit data rate of the radio interface or peer.",
			"rx_rate_bits_per_second": "Receive data rate of the radio interface or peer.",
			"frequency_hertz":         "Operating frequency of the radio interface.",
			"clients":                 "Stations associated with the radio interface (access points).",
		},
	},
	"snmp_env": {
		Tags: []string{"agent", "site", "device", "sensor"},
		Fields: map[string]Kind{
			"temperature_celsius": Float, "voltage_volts": Float, "fan_rpm": Float,
			"power_watts": Float, "optical_rx_dbm": Float, "optical_tx_dbm": Float,
		},
		Help: map[string]string{
			"temperature_celsius": "Temperature the device's sensor reports (degrees Celsius).",
			"voltage_volts":       "Voltage the device's sensor reports.",
			"fan_rpm":             "Fan speed the device's sensor reports (revolutions per minute).",
			"power_watts":         "Power the device's sensor reports.",
			"optical_rx_dbm":      "Received optical power of the transceiver (dBm).",
			"optical_tx_dbm":      "Transmitted optical power of the transceiver (dBm).",
		},
	},
	"snmp_ups": {
		Tags: []string{"agent", "site", "device"},
		Fields: map[string]Kind{
			"on_battery": Int, "battery_charge_ratio": Ratio, "battery_runtime_seconds": Float,
			// load_ratio may exceed 1 on an overloaded UPS (RFC 1628:
			// upsOutputPercentLoad "may be greater than 100")
			"input_voltage_volts": Float, "load_ratio": Float,
		},
		Help: map[string]string{
			"on_battery":              "1 when the UPS's output is on battery, else 0.",
			"battery_charge_ratio":    "Remaining battery charge of the UPS (0 to 1).",
			"battery_runtime_seconds": "Estimated time the UPS can run on its battery.",
			"input_voltage_volts":     "Input (mains) voltage of the UPS.",
			"load_ratio":              "Output load of the UPS as a share of its capacity (above 1 when overloaded).",
		},
	},
	"agent": {
		Tags: []string{"agent", "site", "version"},
		Fields: map[string]Kind{
			"uptime_seconds": Float, "queue_points": Float, "queue_bytes": Float,
			"queue_oldest_age_seconds": Float, "queue_dropped_points_total": Uint, "targets": Int,
		},
		Help: map[string]string{
			"uptime_seconds":             "Time since the agent started.",
			"queue_points":               "Points in the agent's durable spool, not yet accepted by the collector.",
			"queue_bytes":                "Bytes of the agent's durable spool on disk.",
			"queue_oldest_age_seconds":   "Age of the oldest point in the agent's spool (0 when it is empty).",
			"queue_dropped_points_total": "Points the agent dropped because its spool was full or too old.",
			"targets":                    "Probe targets the agent is configured with.",
		},
		// The heartbeat's queue fields are named as the agent's /metrics
		// names them (pantau_agent_queue_*); agents before that sent these.
		Renamed: map[string]string{
			"queue_oldest_seconds": "queue_oldest_age_seconds",
			"dropped_points_total": "queue_dropped_points_total",
		},
	},
}

// FieldKind returns the declared kind of measurement.field, if schema v1
// declares it. Measurements outside v1 (plugins, Telegraf) are free-form.
func FieldKind(measurement, field string) (Kind, bool) {
	m, ok := V1[measurement]
	if !ok {
		return 0, false
	}
	k, ok := m.Fields[field]
	return k, ok
}

// Metadata is what the query API says about a v1 series name: its
// TYPE (counter for a field ending in _total, else gauge), HELP and
// unit (the name's unit suffix: seconds, bytes, ratio, bits_per_second).
type Metadata struct {
	Type, Help, Unit string
}

var v1Metadata = func() map[string]Metadata {
	out := map[string]Metadata{}
	for m, meas := range V1 {
		for f := range meas.Fields {
			md := Metadata{Type: "gauge", Help: meas.Help[f]}
			base := f
			if b, ok := strings.CutSuffix(f, "_total"); ok {
				md.Type, base = "counter", b
			}
			for _, u := range []string{"seconds", "bytes", "ratio", "bits_per_second"} {
				if strings.HasSuffix(base, "_"+u) {
					md.Unit = u
				}
			}
			out[MetricName(m, f)] = md
		}
	}
	return out
}()

// MetadataOf returns the metadata of a v1 series name
// (pantau_<measurement>_<field>).
func MetadataOf(metric string) (Metadata, bool) {
	md, ok := v1Metadata[metric]
	return md, ok
}

// MetricName returns the Prometheus series name for measurement.field:
// pantau_<measurement>_<field>, with characters outside [a-zA-Z0-9_]
// replaced by '_'.
func MetricName(measurement, field string) string {
	var b strings.Builder
	b.Grow(len(MetricPrefix) + len(measurement) + 1 + len(field))
	b.WriteString(MetricPrefix)
	writeSanitized(&b, measurement)
	b.WriteByte('_')
	writeSanitized(&b, field)
	return b.String()
}

// LabelName returns a valid Prometheus label name for a tag key: invalid
// characters become '_', and a leading digit gets a '_' prefix.
func LabelName(tag string) string {
	if validLabel(tag) {
		return tag
	}
	var b strings.Builder
	if tag == "" || (tag[0] >= '0' && tag[0] <= '9') {
		b.WriteByte('_')
	}
	writeSanitized(&b, tag)
	return b.String()
}

func validLabel(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isNameChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func writeSanitized(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; isNameChar(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
}
