package plughost

import (
	"os/exec"
	"syscall"
)

// dieWithAgent makes the kernel kill the plugin when the agent dies, even
// by SIGKILL, so a plugin never outlives it.
func dieWithAgent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
