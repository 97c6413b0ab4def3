package collector

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel stop the demo's agent when the demo
// dies, even by SIGKILL.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
