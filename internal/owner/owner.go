// Package owner tells whether a file is this process's user's: a file in a
// directory others may write to is trusted only when it is.
package owner

import "os"

// Mine reports whether fi, as os.Stat or os.Lstat returned it, is owned by
// the process's effective user. Where ownership cannot be read (not Unix),
// every file is.
func Mine(fi os.FileInfo) bool { return mine(fi) }
