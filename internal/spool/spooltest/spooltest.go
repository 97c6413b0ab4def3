// Package spooltest gives tests a real full disk: a small tmpfs mounted
// for one test, and a filler file that takes all of its free space.
package spooltest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size bytes on a new directory and unmounts it
// when the test ends (lazily if something still holds it). It needs root;
// without it the test fails, or is skipped under -short.
func Tmpfs(t testing.TB, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if testing.Short() {
			t.Skip("mounting a tmpfs needs root")
		}
		t.Fatal("mounting a tmpfs needs root: run the tests as root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount the tmpfs on %s: %v", dir, err)
			}
		}
	})
	return dir
}

// Filler is a file that takes the free space of a file system.
type Filler struct {
	t    testing.TB
	path string
}

// Fill writes a new file dir/filler-* until the file system is full, then
// gives back leave bytes (rounded up to whole pages by the file system).
func Fill(t testing.TB, dir string, leave int64) *Filler {
	t.Helper()
	f, err := os.CreateTemp(dir, "filler-")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := f.Name()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(buf)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatalf("fill %s: %v", dir, err)
		}
		if n > 1<<30 {
			t.Fatalf("fill %s: not full after 1 GiB: is it a small tmpfs?", dir)
		}
	}
	if leave > 0 {
		if err := f.Truncate(max(n-leave, 0)); err != nil {
			t.Fatal(err)
		}
	}
	return &Filler{t: t, path: path}
}

// Free removes the filler: the space is free again.
func (f *Filler) Free() {
	f.t.Helper()
	if err := os.Remove(f.path); err != nil {
		f.t.Fatal(err)
	}
}

// Temps lists the files under dir whose name starts with ".tmp" (the
// temporary files of interrupted writes).
func Temps(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if len(d.Name()) >= 4 && d.Name()[:4] == ".tmp" || filepath.Ext(d.Name()) == ".tmp" {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
