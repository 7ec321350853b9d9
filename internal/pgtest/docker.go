package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
)

// Images for the docker path.
const (
	// DefaultImage is the image used when BGMIGRATE_TEST_PG_IMAGE is unset.
	DefaultImage = "postgres:15"
	// LocalImage is the image scripts/pg-image.sh builds from Debian
	// packages where no registry is reachable; it is used when
	// BGMIGRATE_TEST_PG_IMAGE is unset and DefaultImage is not present.
	LocalImage = "bgmigrate/postgres:15"
)

// StartDocker starts PostgreSQL in a container with testcontainers-go's
// postgres module, from BGMIGRATE_TEST_PG_IMAGE, or else DefaultImage, or
// else LocalImage, whichever the engine has (DefaultImage is pulled when
// neither is there). The reaper container is disabled
// (TESTCONTAINERS_RYUK_DISABLED=true unless set otherwise); a watchdog
// process removes the container if this process dies without Close. The
// error matches ErrUnavailable when no Docker engine answers or the image
// cannot be had.
func StartDocker(ctx context.Context) (*Server, error) {
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		// Ryuk needs an image of its own, which may not be reachable; the
		// watchdog below does its work. testcontainers reads this once.
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}

	if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !set && engineIsLocal() {
		// testcontainers takes a machine with /.dockerenv for a container
		// and would dial the bridge's gateway; when the engine runs in this
		// network namespace, its published ports are on loopback.
		_ = os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	// Its "Connected to docker" banner would go to every package's stderr.
	tclog.SetDefault(tclog.NewNoopLogger())

	image, err := dockerImage(ctx)
	if err != nil {
		return nil, err
	}

	ctr, err := postgres.Run(ctx, image,
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		postgres.WithDatabase("postgres"),
		postgres.WithUsername("postgres"),
		postgres.WithPassword("postgres"),
		testcontainers.WithCmd("postgres",
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
			"-c", "max_connections=300",
			"-c", "shared_preload_libraries=pg_stat_statements",
		),
		postgres.BasicWaitStrategies(),
	)
	if err != nil {
		if ctr != nil {
			_ = testcontainers.TerminateContainer(ctr)
		}
		return nil, fmt.Errorf("start %s container: %w", image, err)
	}
	guard, err := startWatchdog("docker rm -f -v " + shellQuote(ctr.GetContainerID()) + " >/dev/null 2>&1")
	if err != nil {
		_ = testcontainers.TerminateContainer(ctr)
		return nil, err
	}
	u, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		_ = testcontainers.TerminateContainer(ctr)
		guard.disarm()
		return nil, fmt.Errorf("container connection string: %w", err)
	}
	return &Server{
		URL:  u,
		Kind: KindDocker,
		stop: func(ctx context.Context) error {
			err := ctr.Terminate(ctx)
			guard.disarm()
			return err
		},
	}, nil
}

// dockerImage picks the image to run and makes sure the engine has it.
func dockerImage(ctx context.Context) (string, error) {
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(pingCtx)
	if err != nil {
		return "", unavailable(hintDocker, "no Docker engine answers: %v", err)
	}
	defer cli.Close()

	candidates := []string{DefaultImage, LocalImage}
	if img := os.Getenv(EnvImage); img != "" {
		candidates = []string{img}
	}
	for _, img := range candidates {
		_, err := cli.ImageInspect(ctx, img)
		if err == nil {
			return img, nil
		}
		if !cerrdefs.IsNotFound(err) {
			return "", fmt.Errorf("inspect image %s: %w", img, err)
		}
	}

	img := candidates[0]
	pullCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	resp, err := cli.ImagePull(pullCtx, img, client.ImagePullOptions{})
	if err == nil {
		err = resp.Wait(pullCtx)
	}
	if err != nil {
		return "", unavailable("build an image with scripts/pg-image.sh and set "+EnvImage+"="+LocalImage,
			"image %s is not present and cannot be pulled: %v", img, err)
	}
	return img, nil
}

// engineIsLocal reports whether a Docker engine's bridge (docker0) is an
// interface of this network namespace, that is whether ports it publishes
// can be reached on 127.0.0.1.
func engineIsLocal() bool {
	_, err := net.InterfaceByName("docker0")
	return err == nil
}
