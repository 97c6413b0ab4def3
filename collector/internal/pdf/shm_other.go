//go:build !linux

package pdf

// shmRoomy: outside Linux Chromium's own choice stands.
func shmRoomy() bool { return false }
