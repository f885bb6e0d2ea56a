//go:build !unix

package atomicfile

// noFollow: no such flag here; OpenFile checks with Lstat instead.
const noFollow = 0
