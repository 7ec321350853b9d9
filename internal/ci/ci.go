// Package ci says whether the tests run in CI. There a test that cannot
// have its component (PostgreSQL, a load balancer, the shared corpus, a
// control plane) fails instead of skipping, so that a machine missing one
// never passes by skipping what it could not run.
package ci

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// InCI reports whether the CI environment variable is set to a true value
// ("true", "1", ...), as CI services set it.
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Unavailable ends a test that cannot have what it needs: it fails in CI
// and skips elsewhere, saying why.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatal(msg + " (CI is set: this fails instead of skipping)")
	}
	t.Skip(msg)
}
