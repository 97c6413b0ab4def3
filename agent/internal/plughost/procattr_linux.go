package plughost

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// dieWithAgent makes the kernel kill the plugin when the agent dies, even
// by SIGKILL, so a plugin never outlives it.
func dieWithAgent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// withoutAmbientCaps runs start, which forks the plugin, on an OS thread
// whose inheritable and ambient capability sets are empty, so the plugin
// has no capabilities: not the CAP_NET_RAW that systemd grants the agent
// for raw ICMP sockets (AmbientCapabilities=,
// deploy/systemd/pantau-agent-raw-icmp.conf), nor an inheritable one to
// pass to a program with file capabilities. Capability sets are per
// thread and a forked child copies its thread's; the agent's own
// permitted and effective sets do not change. The thread is left with
// those sets empty (it only matters to the programs it starts) and is
// not ended, which would fire the plugin's Pdeathsig.
func withoutAmbientCaps(start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("read capabilities before starting a plugin: %w", err)
	}
	if data[0].Inheritable|data[1].Inheritable != 0 {
		data[0].Inheritable, data[1].Inheritable = 0, 0
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return fmt.Errorf("drop inheritable capabilities before starting a plugin: %w", err)
		}
	}
	// Emptying the inheritable set empties the ambient one too; say so
	// explicitly for kernels and sets that differ.
	err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	if err != nil && !errors.Is(err, unix.EINVAL) { // EINVAL: a kernel before 4.3, without ambient capabilities
		return fmt.Errorf("clear ambient capabilities before starting a plugin: %w", err)
	}
	return start()
}
