package dockertest

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

// Images of TestDockerImage.
const (
	// dockerTestImage is the tag the test builds the Dockerfile as.
	dockerTestImage = "bgmigrate-test/bgmigrate:test"
	// dockerBuildStandIn is the Go image built in place of the Dockerfile's
	// GO_IMAGE when that cannot be pulled: a Debian image with gcc and this
	// machine's Go toolchain and CA certificates.
	dockerBuildStandIn = "bgmigrate-test/go"
	dockerImageVersion = "v0.0.0-docker-test"
	// repoRoot is the repository's root, from this package's directory.
	repoRoot = "../../"
)

// TestDockerImage builds the Dockerfile with the local Docker engine and runs
// the image: it must be small, run as a non-root user, and lint the shop
// example mounted at its working directory. Where the Dockerfile's Go image
// cannot be pulled (no registry reachable), its build stage runs on a
// stand-in made from a local Debian image (BGMIGRATE_TEST_DEBIAN_IMAGE, by
// default the PostgreSQL image scripts/pg-image.sh builds) with this
// machine's Go toolchain. With CI=true a missing engine or image fails the
// test instead of skipping it.
func TestDockerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no image build")
	}
	t.Parallel()
	// A cold build (the stand-in, the modules, pg_query's C) takes minutes:
	// stop a little before go test's deadline, with a message.
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-15*time.Second))
	defer cancel()
	if out, err := docker(ctx, nil, "info", "--format", "{{.ServerVersion}}"); err != nil {
		unavailable(t, "no Docker engine answers (%v: %s)", err, out)
	}

	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ARG GO_IMAGE=(\S+)$`).FindSubmatch(dockerfile)
	if m == nil {
		t.Fatal("the Dockerfile has no ARG GO_IMAGE=... default")
	}
	goImage := buildImage(ctx, t, string(m[1]))

	build := []string{"build", "--build-arg", "GO_IMAGE=" + goImage, "--build-arg", "VERSION=" + dockerImageVersion,
		"-t", dockerTestImage, repoRoot}
	start := time.Now()
	if out, err := docker(ctx, nil, build...); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(build, " "), err, out)
	}
	t.Logf("docker build (GO_IMAGE=%s): %s", goImage, time.Since(start).Round(time.Second))

	out, err := docker(ctx, nil, "image", "inspect", "--format", "{{.Config.User}} {{.Size}}", dockerTestImage)
	if err != nil {
		t.Fatalf("docker image inspect: %v\n%s", err, out)
	}
	user, size, _ := strings.Cut(strings.TrimSpace(out), " ")
	if user == "" || user == "root" || strings.HasPrefix(user, "0:") || user == "0" {
		t.Errorf("the image runs as user %q, want a non-root user", user)
	}
	if n, err := strconv.ParseInt(size, 10, 64); err != nil || n > 64<<20 {
		t.Errorf("the image is %s bytes, want at most 64 MiB", size)
	} else {
		t.Logf("image %s: %.1f MiB, user %s", dockerTestImage, float64(n)/(1<<20), user)
	}

	out, err = docker(ctx, nil, "run", "--rm", dockerTestImage, "version")
	if err != nil {
		t.Fatalf("docker run ... version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "bgmigrate "+dockerImageVersion+"\n") ||
		!regexp.MustCompile(`\npg_query  v\S+ \(PostgreSQL \d+ grammar\)\n`).MatchString(out) {
		t.Errorf("docker run ... version prints:\n%s", out)
	}

	examples, err := filepath.Abs(filepath.Join(repoRoot, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	out, err = docker(ctx, nil, "run", "--rm", "-v", examples+":/work:ro", dockerTestImage, "lint", "shop/migrations")
	if err != nil {
		t.Fatalf("docker run ... lint shop/migrations: %v\n%s", err, out)
	}
	if !strings.Contains(out, "shop/migrations/0007_drop_orders_coupon_code.up.sql: contract:") {
		t.Errorf("docker run ... lint shop/migrations prints:\n%s", out)
	}
}

// buildImage returns the image the Dockerfile's build stage can use: image
// itself when the engine has it or can pull it, else the stand-in.
func buildImage(ctx context.Context, t *testing.T, image string) string {
	t.Helper()
	if _, err := docker(ctx, nil, "image", "inspect", image); err == nil {
		return image
	}
	pull, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, err := docker(pull, nil, "pull", "--quiet", image)
	if err == nil {
		return image
	}
	t.Logf("docker pull %s: %v (%s); using a stand-in", image, err, strings.TrimSpace(out))

	standIn := dockerBuildStandIn + ":" + runtime.Version()
	if _, err := docker(ctx, nil, "image", "inspect", standIn); err == nil {
		return standIn
	}
	base := os.Getenv("BGMIGRATE_TEST_DEBIAN_IMAGE")
	if base == "" {
		base = os.Getenv("BGMIGRATE_TEST_PG_IMAGE")
	}
	if base == "" {
		base = pgtest.LocalImage
	}
	if _, err := docker(ctx, nil, "image", "inspect", base); err != nil {
		unavailable(t, "neither %s nor a Debian image to build a stand-in from (%s; scripts/pg-image.sh builds one)", image, base)
	}
	goroot, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeStandInContext(pw, base, strings.TrimSpace(string(goroot)))) }()
	defer pr.Close()
	if out, err := docker(ctx, pr, "build", "-t", standIn, "-"); err != nil {
		t.Fatalf("docker build %s: %v\n%s", standIn, err, out)
	}
	return standIn
}

// writeStandInContext writes the build context of the stand-in Go image to
// w as a tar stream: its Dockerfile, the Go toolchain at goroot and this
// machine's CA certificates (so the build stage reaches the Go module proxy
// through the same TLS as the host).
func writeStandInContext(w io.Writer, base, goroot string) error {
	tw := tar.NewWriter(w)
	add := func(name string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	dockerfile := fmt.Sprintf(`FROM %s
USER root
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY go /usr/local/go
ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOTOOLCHAIN=local
ENTRYPOINT []
CMD ["go", "version"]
`, base)
	if err := add("Dockerfile", 0o644, []byte(dockerfile)); err != nil {
		return err
	}
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return err
	}
	if err := add("ca-certificates.crt", 0o644, certs); err != nil {
		return err
	}
	err = filepath.WalkDir(goroot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(goroot, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(filepath.Join("go", rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Name: name + "/", Mode: 0o755, Typeflag: tar.TypeDir})
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Name: name, Linkname: target, Mode: 0o777, Typeflag: tar.TypeSymlink})
		case !info.Mode().IsRegular():
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return add(name, int64(info.Mode().Perm()), body)
	})
	if err != nil {
		return fmt.Errorf("GOROOT %s: %w", goroot, err)
	}
	return tw.Close()
}

// docker runs the docker CLI and returns its combined output. The classic
// builder is used when the CLI has no buildx (BuildKit needs it), since the
// Dockerfile needs nothing BuildKit alone offers.
func docker(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	cmd.Env = os.Environ()
	if len(args) > 0 && args[0] == "build" && exec.CommandContext(ctx, "docker", "buildx", "version").Run() != nil {
		cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=0")
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// unavailable skips t, or fails it when CI is set.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if pgtest.InCI() {
		t.Fatal(msg + "; CI is set, so this fails instead of skipping")
	}
	t.Skip(msg)
}
