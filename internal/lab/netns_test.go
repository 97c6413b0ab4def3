package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSweepStale: a namespace whose owning test process is gone (here a
// process that has exited) is removed when the next lab starts; one owned
// by a live process (this one) is left alone.
func TestSweepStale(t *testing.T) {
	SkipShort(t, "root and network namespaces")
	if os.Geteuid() != 0 {
		t.Fatal("the link lab needs root (network namespaces); run the tests as root")
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale, live := fmt.Sprintf("plsweep%d-dead", os.Getpid()), fmt.Sprintf("plsweep%d-live", os.Getpid())
	for _, ns := range []string{stale, live} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run(); os.Remove(ownerDir + "/" + ns) })
	}
	if err := own(live); err != nil {
		t.Fatal(err)
	}
	// The exited process's start time cannot match any running process's.
	if err := os.WriteFile(ownerDir+"/"+stale, fmt.Appendf(nil, "%d 1\n", dead.Process.Pid), 0o644); err != nil {
		t.Fatal(err)
	}
	New(t)
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), stale) {
		t.Errorf("%s, owned by exited process %d, was not removed:\n%s", stale, dead.Process.Pid, out)
	}
	if !strings.Contains(string(out), live) {
		t.Errorf("%s, owned by this live process, was removed:\n%s", live, out)
	}
	if _, err := os.Stat(ownerDir + "/" + stale); !os.IsNotExist(err) {
		t.Errorf("owner file of %s left behind: %v", stale, err)
	}
}
