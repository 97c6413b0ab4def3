package sla

import "unsafe"

// runEnd returns the end of the run of elements equal to s[j] that starts
// at j: the first k > j with s[k] != s[j], or len(s). A year of minutes is
// mostly long runs of one value (a link up all day), so it compares
// blocks rather than minutes: the run so far against the block after it,
// doubling the block while they match and halving it when they do not,
// each comparison one memory compare of the bytes (as bytes.Equal does).
func runEnd[T uint16 | Slots](s []T, j int) int {
	k := j + 1
	for n := 1; k < len(s); {
		l := min(n, len(s)-k) // s[j:j+l] lies in the run: l <= k-j
		if sameBlock(s[k:k+l], s[j:j+l]) {
			k += l
			n *= 2
			continue
		}
		if l == 1 {
			break
		}
		n = l / 2
	}
	return k
}

// sameBlock tells whether a and b (of one length) hold the same bytes.
func sameBlock[T uint16 | Slots](a, b []T) bool {
	size := int(unsafe.Sizeof(a[0])) * len(a)
	return unsafe.String((*byte)(unsafe.Pointer(&a[0])), size) == unsafe.String((*byte)(unsafe.Pointer(&b[0])), size)
}

// fillRun sets every element of s to v, by doubling copies.
func fillRun[T uint8 | uint16 | Slots](s []T, v T) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for k := 1; k < len(s); k *= 2 {
		copy(s[k:], s[:k])
	}
}
