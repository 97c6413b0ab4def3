package update

import "syscall"

// childAttr stops a trial child when the launcher dies without stopping
// it (systemd stops the whole control group anyway).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
