// Command bgmigrate-testapp is the HTTP service that end-to-end tests and
// benchmarks of bgmigrate deploy run, one process per color, and the client
// their deploy hooks run to drive it. See package testapp.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/bgmigrate/bgmigrate/internal/testapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := testapp.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
