// Package pgtest gives tests a throwaway PostgreSQL: one server per test
// package, a fresh database per test.
//
// A package that talks to PostgreSQL in its tests calls Run from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Run(m) }
//
// and each test asks for its own database:
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		conn := pgtest.Conn(t) // or pgtest.Pool(t), or pgtest.DB(t) for a URL
//		...
//	}
//
// The server is found in this order (BGMIGRATE_TEST_PG=url|local|docker
// forces one):
//
//  1. BGMIGRATE_TEST_DATABASE_URL: an existing server, used as the admin
//     connection; pgtest creates and drops its databases on it.
//  2. A throwaway cluster from local binaries (/usr/lib/postgresql/*/bin,
//     highest version first, then PATH), in a temp dir, on a free port of
//     127.0.0.1 below 32768, stopped and removed when the package's tests end.
//  3. A testcontainers-go container when a Docker engine answers, from
//     BGMIGRATE_TEST_PG_IMAGE (default postgres:15, or a local
//     bgmigrate/postgres:15 built by scripts/pg-image.sh).
//
// The server starts on the first call to DB, Conn or Pool, so a run that
// selects no database test pays nothing. When no server can be had, each
// test that wants one skips with one line saying how to get one; with
// CI=true it fails instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Environment variables read by pgtest.
const (
	EnvURL   = "BGMIGRATE_TEST_DATABASE_URL" // admin URL of an existing server
	EnvMode  = "BGMIGRATE_TEST_PG"           // force a path: url, local or docker
	EnvImage = "BGMIGRATE_TEST_PG_IMAGE"     // image for the docker path
)

// Kinds of Server, also the values of BGMIGRATE_TEST_PG.
const (
	KindURL    = "url"
	KindLocal  = "local"
	KindDocker = "docker"
)

// ErrUnavailable is matched (errors.Is) by the errors of Start, StartLocal
// and StartDocker when there is simply no PostgreSQL to be had on this
// machine (no binaries, no Docker engine, no image), as opposed to one that
// failed.
var ErrUnavailable = errors.New("no PostgreSQL available")

// unavailableError is an ErrUnavailable with its cause and the one-line
// advice that a skipped test prints.
type unavailableError struct {
	cause string
	hint  string
}

func (e *unavailableError) Error() string        { return ErrUnavailable.Error() + ": " + e.cause }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

func unavailable(hint, format string, args ...any) error {
	return &unavailableError{cause: fmt.Sprintf(format, args...), hint: hint}
}

// Advice printed by a test that skips or fails for want of a server.
const (
	hintAny    = "install PostgreSQL (apt-get install -y postgresql) or set " + EnvURL + "=postgres://USER@HOST:PORT/postgres"
	hintDocker = "start a Docker engine (apt-get install -y docker.io, then dockerd) and build an image with scripts/pg-image.sh, or see scripts/ci-services.sh"
)

// Server is a running PostgreSQL that tests get databases on.
type Server struct {
	// URL is the admin connection, as a superuser, to its "postgres" database.
	URL string
	// Kind says how the server was found: KindURL, KindLocal or KindDocker.
	Kind string

	stop      func(context.Context) error
	closeOnce sync.Once
	closeErr  error
}

// Close stops the server (for a cluster or container pgtest started) and
// removes what it left on disk. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stop == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.closeErr = s.stop(ctx)
	})
	return s.closeErr
}

// Start finds or starts a server in the documented order, or the one that
// BGMIGRATE_TEST_PG names.
func Start(ctx context.Context) (*Server, error) {
	switch mode := os.Getenv(EnvMode); mode {
	case KindURL:
		u := os.Getenv(EnvURL)
		if u == "" {
			return nil, fmt.Errorf("%s=url but %s is empty", EnvMode, EnvURL)
		}
		return StartURL(ctx, u)
	case KindLocal:
		return StartLocal(ctx)
	case KindDocker:
		return StartDocker(ctx)
	case "":
	default:
		return nil, fmt.Errorf("%s=%q: want url, local or docker", EnvMode, mode)
	}
	if u := os.Getenv(EnvURL); u != "" {
		return StartURL(ctx, u)
	}
	s, err := StartLocal(ctx)
	if !errors.Is(err, ErrUnavailable) {
		return s, err
	}
	s, derr := StartDocker(ctx)
	if errors.Is(derr, ErrUnavailable) {
		return nil, unavailable(hintAny, "local: %s; docker: %s", causeOf(err), causeOf(derr))
	}
	return s, derr
}

// StartURL checks that url answers and returns it as a Server that Close
// leaves running.
func StartURL(ctx context.Context, url string) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", EnvURL, err)
	}
	defer conn.Close(context.Background())
	return &Server{URL: url, Kind: KindURL}, nil
}

// Option changes what Run sets up for a package.
type Option func(*options)

type options struct {
	setup func(ctx context.Context, conn *pgx.Conn) error
}

// WithTemplate runs setup once per package on the template database that
// every test's database is copied from, for example to load a schema that
// all the package's tests share.
func WithTemplate(setup func(ctx context.Context, conn *pgx.Conn) error) Option {
	return func(o *options) { o.setup = setup }
}

// harness is the package's one server and its template database. Test
// packages are processes of their own, so this global is per test package.
type harness struct {
	opts    options
	running atomic.Bool

	once     sync.Once
	srv      *Server
	admin    *pgxpool.Pool
	template string
	version  int
	token    string
	err      error

	seq atomic.Int64
}

var pkg harness

// Run runs the package's tests and then stops the server that they used
// (when one was started) and drops the template database. Call it from
// TestMain; it returns m.Run's exit code, which TestMain may simply drop:
//
//	func TestMain(m *testing.M) { pgtest.Run(m) }
//
// A test binary that dies without returning from Run (a panic, a timeout,
// a signal) still leaves no server behind: the cluster's postmaster gets
// SIGQUIT when the binary exits, and a small watchdog process removes the
// temp dir or the container.
func Run(m *testing.M, opts ...Option) int {
	for _, o := range opts {
		o(&pkg.opts)
	}
	pkg.running.Store(true)
	defer pkg.shutdown()
	return m.Run()
}

func (h *harness) start() {
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		h.err = h.startLocked(ctx)
	})
}

func (h *harness) startLocked(ctx context.Context) error {
	var b [4]byte
	_, _ = rand.Read(b[:])
	h.token = hex.EncodeToString(b[:])

	srv, err := Start(ctx)
	if err != nil {
		return err
	}
	h.srv = srv
	cfg, err := pgxpool.ParseConfig(srv.URL)
	if err != nil {
		return fmt.Errorf("parse admin URL: %w", err)
	}
	cfg.MaxConns = 4
	h.admin, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("admin pool: %w", err)
	}
	var v string
	if err := h.admin.QueryRow(ctx, "SHOW server_version_num").Scan(&v); err != nil {
		return fmt.Errorf("server version: %w", err)
	}
	h.version, _ = strconv.Atoi(v)

	h.template = "pgtest_tpl_" + h.token
	return createTemplate(ctx, h.admin, srv.URL, h.template, h.opts.setup)
}

// createTemplate creates the database that tests' databases are copied
// from, runs setup on it, and closes it to connections so that copies of it
// never find it busy.
func createTemplate(ctx context.Context, admin *pgxpool.Pool, adminURL, name string, setup func(context.Context, *pgx.Conn) error) error {
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	if setup != nil {
		u, err := withDatabase(adminURL, name)
		if err != nil {
			return err
		}
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return fmt.Errorf("connect to template database: %w", err)
		}
		err = setup(ctx, conn)
		conn.Close(context.Background())
		if err != nil {
			return fmt.Errorf("template setup: %w", err)
		}
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("mark template database: %w", err)
	}
	return nil
}

func (h *harness) shutdown() {
	if h.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if h.srv.Kind == KindURL {
			ident := pgx.Identifier{h.template}.Sanitize()
			_, _ = h.admin.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE false")
			_, _ = h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident)
		}
		cancel()
		h.admin.Close()
	}
	if h.srv != nil {
		if err := h.srv.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop server: %v\n", err)
		}
	}
}

// ready returns the package's server, starting it on first use, or ends
// the test: a skip when there is no PostgreSQL here, a failure in CI or
// when a server was found but broke.
func ready(t testing.TB) *harness {
	t.Helper()
	if !pkg.running.Load() {
		t.Fatal("pgtest: this package's TestMain must call pgtest.Run(m)")
	}
	pkg.start()
	if pkg.err != nil {
		SkipOrFail(t, pkg.err)
	}
	return &pkg
}

// SkipOrFail ends t over err from Start, StartLocal or StartDocker: it
// skips with one line saying how to get PostgreSQL when err wraps
// ErrUnavailable and CI is not set, and fails otherwise.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("pgtest: %v", err)
	}
	hint := hintAny
	var u *unavailableError
	if errors.As(err, &u) && u.hint != "" {
		hint = u.hint
	}
	msg := fmt.Sprintf("pgtest: no PostgreSQL for this test: %s (%s)", hint, causeOf(err))
	if InCI() {
		t.Fatal(msg + "; CI is set, so this fails instead of skipping")
	}
	t.Skip(msg)
}

// InCI reports whether the tests run in CI (package ci).
func InCI() bool { return ci.InCI() }

// causeOf returns why err's PostgreSQL is unavailable, or err's text.
func causeOf(err error) string {
	var u *unavailableError
	if errors.As(err, &u) {
		return u.cause
	}
	return err.Error()
}

// DB creates a fresh database for t, copied from the package's template, and
// returns its URL. The database is dropped (WITH (FORCE)) when t ends.
func DB(t testing.TB) string {
	t.Helper()
	h := ready(t)
	name := h.dbName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.createDB(ctx, name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := h.dropDB(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	u, err := withDatabase(h.srv.URL, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// Conn returns a connection to a fresh database for t (see DB), closed when
// t ends.
func Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	u := DB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// Pool returns a connection pool on a fresh database for t (see DB), closed
// when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := DB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// ServerVersion returns the package's server's server_version_num
// (150004 for 15.4).
func ServerVersion(t testing.TB) int {
	t.Helper()
	return ready(t).version
}

// AdminURL returns the URL of the package's server as a superuser on its
// "postgres" database, for tests that need more than one database of their
// own. Databases made through it are the test's to drop.
func AdminURL(t testing.TB) string {
	t.Helper()
	return ready(t).srv.URL
}

// dbName is a database name unique to this process and call, readable in
// server logs: pgtest_<token>_<n>_<test name>, at most 63 bytes.
func (h *harness) dbName(test string) string {
	n := h.seq.Add(1)
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := fmt.Sprintf("pgtest_%s_%d_%s", h.token, n, b.String())
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

func (h *harness) createDB(ctx context.Context, name string) error {
	strategy := ""
	if h.version >= 150000 {
		strategy = createStrategy
	}
	return createDatabase(ctx, h.admin, name, h.template, strategy)
}

// createStrategy is CREATE DATABASE's STRATEGY on PostgreSQL 15 and later.
// FILE_COPY copies the template's files where WAL_LOG (the server's default)
// writes each page to the WAL; BenchmarkCreateDatabase compares the two.
const createStrategy = "FILE_COPY"

// createDatabase runs CREATE DATABASE name TEMPLATE template, with STRATEGY
// strategy unless it is empty.
func createDatabase(ctx context.Context, admin *pgxpool.Pool, name, template, strategy string) error {
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	if strategy != "" {
		q += " STRATEGY " + strategy
	}
	if _, err := admin.Exec(ctx, q); err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

func (h *harness) dropDB(ctx context.Context, name string) error {
	q := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize()
	if h.version >= 130000 {
		q += " WITH (FORCE)"
	}
	if _, err := h.admin.Exec(ctx, q); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
}

// withDatabase returns the URL u pointing at database name.
func withDatabase(u, name string) (string, error) {
	if !strings.Contains(u, "://") {
		// A keyword/value connection string.
		return u + " dbname=" + name, nil
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	pu.Path = "/" + name
	pu.RawPath = ""
	q := pu.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		pu.RawQuery = q.Encode()
	}
	return pu.String(), nil
}
