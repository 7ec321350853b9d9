// Package devdb starts the throwaway PostgreSQL containers behind docker://
// dev URLs, with testcontainers-go. It runs in its own program,
// bgmigrate-devdb, which bgmigrate starts when a docker:// URL is given:
// testcontainers-go lists every process of the machine when it is loaded
// (9 ms with 70 processes, 35 ms with 370), which no other bgmigrate
// command should pay for.
//
// The protocol: bgmigrate-devdb IMAGE starts the container, prints its
// superuser URL as one line on standard output, and removes the container
// when its standard input ends or it is told to stop (SIGINT, SIGTERM).
// Exit codes: 0 the container was started and removed, ExitUnavailable no
// Docker engine answers, 1 any other failure, 2 usage; the reason is on
// standard error.
package devdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
)

// ExitUnavailable is the exit code when no Docker engine answers.
const ExitUnavailable = 3

// errUnavailable marks a Docker engine that does not answer.
var errUnavailable = errors.New("no Docker engine answers")

// Main runs bgmigrate-devdb with args (the image) and returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintln(stderr, "usage: bgmigrate-devdb IMAGE\n\nStarts PostgreSQL from IMAGE, prints its URL, and removes it when standard input ends.")
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	url, stop, err := Start(ctx, args[0])
	if err != nil {
		fmt.Fprintf(stderr, "bgmigrate-devdb: %v\n", err)
		if errors.Is(err, errUnavailable) {
			return ExitUnavailable
		}
		return 1
	}
	defer stop()
	if _, err := fmt.Fprintln(stdout, url); err != nil {
		return 1
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return 0
}

// Start starts image with testcontainers-go's postgres module and returns
// its superuser URL and a func that removes the container. The reaper
// (Ryuk) is off unless TESTCONTAINERS_RYUK_DISABLED says otherwise: it
// needs an image of its own, and stop removes the container.
func Start(ctx context.Context, image string) (string, func(), error) {
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !set {
		// An engine in this network namespace publishes its ports on
		// loopback; testcontainers would dial the bridge's gateway.
		if _, err := net.InterfaceByName("docker0"); err == nil {
			_ = os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		}
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cli, err := testcontainers.NewDockerClientWithOpts(pingCtx)
	cancel()
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	_ = cli.Close()
	ctr, err := postgres.Run(ctx, image,
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		postgres.WithDatabase("postgres"),
		postgres.WithUsername("postgres"),
		postgres.WithPassword("postgres"),
		testcontainers.WithCmd("postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
		postgres.BasicWaitStrategies(),
	)
	stop := func() {
		if ctr != nil {
			_ = testcontainers.TerminateContainer(ctr)
		}
	}
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("start %s: %w", image, err)
	}
	u, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("container connection string: %w", err)
	}
	return u, stop, nil
}
