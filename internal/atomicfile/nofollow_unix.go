//go:build unix

package atomicfile

import "syscall"

// noFollow makes an open fail on a symbolic link in place of the file.
const noFollow = syscall.O_NOFOLLOW
