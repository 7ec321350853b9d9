package testapp

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Exit codes of Main.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `usage: bgmigrate-testapp <command> [flags]

commands:
  serve   --listen ADDR --color C --version V [--latency D] [--deploy-delay D] [--addr-file F]
  deploy  --admin URL --version V [--wait D]
  fail    --admin URL --status N
  stop    --admin URL
  start   --admin URL
  state   --admin URL

URL is the base URL of a serving instance (http://127.0.0.1:PORT).
Run "bgmigrate-testapp <command> -h" for a command's flags.
`

// usageError is a command line that cannot run.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Main runs the bgmigrate-testapp command: serve runs an App until ctx
// ends, the other commands drive a serving one through its admin
// endpoints. It returns the exit code: 0, 1 on failure, 2 on a usage
// error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve":  serve,
		"deploy": deploy,
		"fail":   fail,
		"stop":   admin(http.MethodPost, "stop"),
		"start":  admin(http.MethodPost, "start"),
		"state":  admin(http.MethodGet, "state"),
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	run, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "bgmigrate-testapp: unknown command %q\n\n%s", name, usage)
		return exitUsage
	}
	err := run(ctx, args[1:], stdout, stderr)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "bgmigrate-testapp %s: %v\n", name, err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "bgmigrate-testapp %s: %v\n", name, err)
	return exitFailure
}

// parse parses a command's flags; a bad flag or a stray argument is a
// usage error (the flag package has printed what was wrong).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	return nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bgmigrate-testapp "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func serve(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	color := fs.String("color", "", "the `color` this instance serves (required)")
	version := fs.String("version", "", "the `version` it starts with (required)")
	latency := fs.Duration("latency", 0, "added to every non-admin response")
	delay := fs.Duration("deploy-delay", DefaultDeployDelay, "how long a deploy keeps the app not ready")
	addrFile := fs.String("addr-file", "", "write the bound host:port to this `file` once listening")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *color == "" || *version == "" {
		return usagef("--color and --version are required")
	}
	if err := checkVersion(*version); err != nil {
		return &usageError{msg: err.Error()}
	}
	opts := Options{Latency: *latency, DeployDelay: *delay}
	if opts.DeployDelay == 0 {
		opts.DeployDelay = -1 // no delay, not the default
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: New(*color, *version, opts), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, addr); err != nil {
			_ = srv.Close()
			return err
		}
	}
	fmt.Fprintf(stderr, "bgmigrate-testapp: serving %s %s on %s\n", *color, *version, addr)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeFileAtomic writes content to a temporary file beside path and
// renames it over path, so that a reader never sees a part of it.
func writeFileAtomic(path, content string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// adminFlag adds --admin to fs and returns a func that checks it and
// returns the instance's base URL.
func adminFlag(fs *flag.FlagSet) func() (string, error) {
	admin := fs.String("admin", "", "base `URL` of the instance (required)")
	return func() (string, error) {
		if *admin == "" {
			return "", usagef("--admin is required")
		}
		u, err := url.Parse(*admin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", usagef("--admin %q: want a URL such as http://127.0.0.1:8080", *admin)
		}
		return strings.TrimSuffix(strings.TrimSuffix(*admin, "/"), "/admin"), nil
	}
}

func deploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("deploy", stderr)
	base := adminFlag(fs)
	version := fs.String("version", "", "the `version` to roll out (required)")
	wait := fs.Duration("wait", 0, "wait up to this long for the version to be ready")
	if err := parse(fs, args); err != nil {
		return err
	}
	u, err := base()
	if err != nil {
		return err
	}
	if err := checkVersion(*version); err != nil {
		return &usageError{msg: err.Error()}
	}
	if _, err := call(ctx, http.MethodPost, u+"/admin/deploy?version="+url.QueryEscape(*version), http.StatusAccepted); err != nil {
		return err
	}
	if *wait <= 0 {
		fmt.Fprintf(stdout, "deploying %s\n", *version)
		return nil
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	var last string
	for {
		body, err := call(ctx, http.MethodGet, u+"/admin/state", http.StatusOK)
		if err == nil {
			var st State
			if err = json.Unmarshal(body, &st); err == nil && st.Ready && st.Version == *version {
				fmt.Fprintf(stdout, "%s ready after %v\n", *version, time.Since(start).Round(time.Millisecond))
				return nil
			}
			last = strings.TrimSpace(string(body))
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("version %s not ready after %v (last state: %s)", *version, *wait, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func fail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fail", stderr)
	base := adminFlag(fs)
	status := fs.Int("status", -1, "the HTTP `status` every non-admin path answers; 0 clears (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	u, err := base()
	if err != nil {
		return err
	}
	if *status < 0 {
		return usagef("--status is required")
	}
	body, err := call(ctx, http.MethodPost, u+"/admin/fail?status="+strconv.Itoa(*status), http.StatusOK)
	if err != nil {
		return err
	}
	_, err = stdout.Write(body)
	return err
}

// admin is a command that sends the admin request /admin/NAME, which takes
// no parameter (stop, start, state), and prints the answer.
func admin(method, name string) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlagSet(name, stderr)
		base := adminFlag(fs)
		if err := parse(fs, args); err != nil {
			return err
		}
		u, err := base()
		if err != nil {
			return err
		}
		body, err := call(ctx, method, u+"/admin/"+name, http.StatusOK)
		if err != nil {
			return err
		}
		_, err = stdout.Write(body)
		return err
	}
}

// call sends one admin request and returns the body of a response with
// status want.
func call(ctx context.Context, method, u string, want int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}
