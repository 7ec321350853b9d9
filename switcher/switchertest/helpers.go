package switchertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// Open opens the switcher a URL names, failing the test if it cannot, and
// closes it when the test ends.
func Open(t testing.TB, rawURL string) switcher.Switcher {
	t.Helper()
	sw, err := switcher.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatalf("Open(%s): %v", rawURL, err)
	}
	t.Cleanup(func() { sw.Close() })
	return sw
}

// Stop ends a server a test started: SIGINT, then SIGKILL if it has not
// exited within 5 s. exited receives the result of cmd.Wait.
func Stop(cmd *exec.Cmd, exited <-chan error) {
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}
