package atomicfile_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// TestWriteNamesTheFileNotItsTemporary: a file that cannot be made (its
// directory missing) is named as the caller gave it. The error named the
// hidden temporary file beside it ("open nodir/.x.txt.tmp-5b08e5ce2c36"),
// a name the user never gave.
func TestWriteNamesTheFileNotItsTemporary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodir", "x.txt")
	err := atomicfile.WriteFile(path, []byte("x"))
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != path || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteFile = %v, want a PathError of %s that is ErrNotExist", err, path)
	}
	if strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("WriteFile = %v: names the temporary file", err)
	}
}
