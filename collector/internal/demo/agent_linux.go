package demo

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel stop the demo's agent when the demo
// dies, even by SIGKILL, and puts it in its own process group, so that a
// Ctrl-C reaches only the demo, which then stops the agent before the
// collector.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
