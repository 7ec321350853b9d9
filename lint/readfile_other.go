//go:build !unix

package lint

import (
	"os"

	"github.com/bgmigrate/bgmigrate/parser"
)

// readFile reads a whole migration, as the unix one does: a regular file
// only, up to the size it had when opened, or to its end when it had none
// (but not past parser.MaxInput).
func readFile(name string, _ []byte) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &parser.NotRegularError{Mode: info.Mode().Type()}
	}
	return readAtMost(f, info.Size())
}
