package pdf

import "syscall"

// shmRoomy reports whether /dev/shm has at least 1 GiB free: Chromium
// then keeps its shared memory there (faster than files in /tmp); in a
// container with the usual 64 MB it would crash, so it uses /tmp.
func shmRoomy() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		return false
	}
	return uint64(st.Bavail)*uint64(st.Bsize) >= 1<<30
}
