//go:build !linux

package plughost

import "os/exec"

// dieWithAgent: only Linux can tie a child's life to its parent's.
func dieWithAgent(*exec.Cmd) {}

// withoutAmbientCaps: ambient capabilities are Linux's.
func withoutAmbientCaps(start func() error) error { return start() }
