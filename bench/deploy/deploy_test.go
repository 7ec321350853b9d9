// Package deploybench measures a whole release cycle of bgmigrate deploy
// under steady load through a real HAProxy: a deploy with one expand
// migration on a 1,000,000-row table, a rollback, a redeploy, retire and
// contract, then a deploy whose new color fails inside its confidence
// window (automatic rollback).
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/deploy
package deploybench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/internal/lbtest"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/internal/testapp"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/haproxy"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// rows is the size of the table the expand migration works on.
const rows = 1_000_000

// load sends GET requests through the load balancer at a steady rate and
// counts what comes back.
type load struct {
	url    string
	client *http.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	ok       int
	failed   int // transport errors and non-2xx
	byServed map[string]int
	errs     []string
}

func startLoad(url string, rate, workers int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{url: url, cancel: cancel, byServed: map[string]int{},
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	jobs := make(chan struct{}, workers)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer tick.Stop()
		defer close(jobs)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				select { // all workers busy: the request is late, not lost
				case jobs <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for range jobs {
				l.one()
			}
		}()
	}
	return l
}

func (l *load) one() {
	resp, err := l.client.Get(l.url)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed++
		if len(l.errs) < 5 {
			l.errs = append(l.errs, err.Error())
		}
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		l.failed++
		if len(l.errs) < 5 {
			l.errs = append(l.errs, fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body))))
		}
		return
	}
	l.ok++
	l.byServed[strings.TrimSpace(string(body))]++
}

// snapshot returns the counts so far and resets them.
func (l *load) snapshot() (ok, failed int, served string, errs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for k, v := range l.byServed {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(parts)
	ok, failed, errs = l.ok, l.failed, l.errs
	l.ok, l.failed, l.errs, l.byServed = 0, 0, nil, map[string]int{}
	return ok, failed, strings.Join(parts, ", "), errs
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// stepTimes collects the duration of each finished step.
type stepTimes struct {
	mu   sync.Mutex
	last map[string]deploy.Event
	on   func(deploy.Event)
}

func (s *stepTimes) Event(e deploy.Event) {
	s.mu.Lock()
	if e.Outcome != deploy.Start && e.Outcome != deploy.Progress {
		s.last[e.Step] = e
	}
	on := s.on
	s.mu.Unlock()
	if on != nil {
		on(e)
	}
}

func (s *stepTimes) get(step string) deploy.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[step]
}

func BenchmarkDeployCycle(b *testing.B) {
	for range b.N {
		deployCycle(b)
	}
}

func deployCycle(b *testing.B) {
	ctx := context.Background()
	dbURL := pgtest.DB(b)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	dir := b.TempDir()
	write := func(name, sql string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write("0001_items.sql", "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, legacy text);\n")

	opts := testapp.Options{DeployDelay: 200 * time.Millisecond}
	blue := testapp.Start(b, "blue", "v0", opts)
	green := testapp.Start(b, "green", "v0", opts)
	lb := lbtest.HAProxy(b, blue.Addr, green.Addr)
	bin := testapp.Binary(b)
	window, drain := 5*time.Second, 2*time.Second
	rate := 0.2
	cfg := &config.Deploy{
		Service: "shop", DatabaseURL: dbURL, Switcher: lb.Switcher,
		Blue: config.ColorConfig{URL: blue.URL}, Green: config.ColorConfig{URL: green.URL},
		Hooks: config.Hooks{
			Deploy:    []string{bin, "deploy", "--admin", "{url}", "--version", "{version}"},
			ScaleDown: []string{bin, "stop", "--admin", "{url}"},
		},
		Readiness:  config.Probe{Path: "/healthz", Interval: 100 * time.Millisecond, Successes: 3},
		Smoke:      []config.Check{{Path: "/", Status: 200}},
		WarmUp:     config.WarmUp{Requests: 100, Rate: 200},
		Confidence: config.Confidence{Window: &window, Interval: 100 * time.Millisecond, Path: "/", Probes: 5, MaxErrorRate: &rate},
		Drain:      &drain,
	}
	deploy.ApplyDefaults(cfg)
	sw, err := switcher.Open(ctx, cfg.Switcher)
	if err != nil {
		b.Fatal(err)
	}
	defer sw.Close()
	times := &stepTimes{last: map[string]deploy.Event{}}
	newDeployer := func() (*deploy.Deployer, func()) {
		migs, err := runner.Load(ctx, dir, rules.Config{PGVersion: 15})
		if err != nil {
			b.Fatal(err)
		}
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			b.Fatal(err)
		}
		return &deploy.Deployer{Config: cfg, Conn: c, Switcher: sw, Migrations: migs, Actor: "bench", Report: times}, func() { c.Close(ctx) }
	}
	run := func(what string, fn func(*deploy.Deployer) error) time.Duration {
		d, done := newDeployer()
		defer done()
		start := time.Now()
		if err := fn(d); err != nil {
			b.Fatalf("%s: %v", what, err)
		}
		return time.Since(start)
	}

	// The service before the measured cycle: v1 live on green, the table
	// filled with a million rows.
	run("first deploy", func(d *deploy.Deployer) error { return d.Deploy(ctx, deploy.DeployOptions{Version: "v1"}) })
	if _, err := conn.Exec(ctx, `INSERT INTO items (name, legacy) SELECT 'item ' || g, 'x' FROM generate_series(1, $1) g`, rows); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE items`); err != nil {
		b.Fatal(err)
	}
	write("0002_items_name_idx.sql", "CREATE INDEX CONCURRENTLY items_name_idx ON items (name);\n")
	write("0003_drop_legacy.sql", "ALTER TABLE items DROP COLUMN legacy;\n")

	l := startLoad(lb.Frontend+"/", 200, 16)
	defer l.stop()
	time.Sleep(time.Second)
	l.snapshot()

	b.ResetTimer()
	deployTook := run("deploy v2", func(d *deploy.Deployer) error { return d.Deploy(ctx, deploy.DeployOptions{Version: "v2"}) })
	expand, cutover := times.get("expand"), times.get("switch")
	rollbackTook := run("rollback", func(d *deploy.Deployer) error { return d.Rollback(ctx) })
	rollback := times.get("rollback")
	redeployTook := run("redeploy v2", func(d *deploy.Deployer) error { return d.Deploy(ctx, deploy.DeployOptions{Version: "v2"}) })
	run("retire", func(d *deploy.Deployer) error { return d.Retire(ctx, "") })
	contractTook := run("contract", func(d *deploy.Deployer) error { _, err := d.Contract(ctx, deploy.ContractOptions{}); return err })
	time.Sleep(500 * time.Millisecond)
	ok, failed, served, errs := l.snapshot()
	b.StopTimer()

	// The failing release: the new color returns 500s once it has the traffic.
	var failing *testapp.Instance
	times.on = func(e deploy.Event) {
		if e.Step == "switch" && e.Outcome == deploy.OK && failing != nil {
			failing.App.Fail(500)
		}
	}
	d, done := newDeployer()
	r, err := d.Status(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	failing = blue
	if r.Active == switcher.Blue {
		failing = green
	}
	err = d.Deploy(ctx, deploy.DeployOptions{Version: "v3-bad"})
	done()
	rb, isRollback := err.(*deploy.RolledBackError)
	if !isRollback {
		b.Fatalf("the failing release: %v, want an automatic rollback", err)
	}
	time.Sleep(500 * time.Millisecond)
	okBad, failedBad, servedBad, _ := l.snapshot()

	fmt.Printf("\nbgmigrate deploy cycle under load (%d req/s through HAProxy, %d-row table)\n", 200, rows)
	fmt.Printf("  deploy v2 (expand: CREATE INDEX CONCURRENTLY on %d rows)  %8.2f s  (expand %.2f s)\n", rows, deployTook.Seconds(), expand.Duration)
	fmt.Printf("  cutover (switch step)                                       %8.1f ms  (target < 1 s)\n", cutover.Duration*1000)
	fmt.Printf("  rollback (command)                                          %8.1f ms  (switch step %.1f ms; target < 1 s)\n", float64(rollbackTook.Microseconds())/1000, rollback.Duration*1000)
	fmt.Printf("  redeploy v2                                                 %8.2f s\n", redeployTook.Seconds())
	fmt.Printf("  contract (DROP COLUMN)                                      %8.2f s\n", contractTook.Seconds())
	fmt.Printf("  requests during deploy, rollback, redeploy, contract: %d ok, %d failed (target 0)  [%s]\n", ok, failed, served)
	for _, e := range errs {
		fmt.Printf("    failure: %s\n", e)
	}
	fmt.Printf("  failing release: first failing probe to traffic back: %.1f ms; requests meanwhile: %d ok, %d failed [%s]\n",
		float64(rb.Back.Sub(rb.FirstFailure).Microseconds())/1000, okBad, failedBad, servedBad)
	b.ReportMetric(float64(failed), "failed-requests")
	b.ReportMetric(cutover.Duration*1000, "cutover-ms")
	b.ReportMetric(float64(rollbackTook.Microseconds())/1000, "rollback-ms")
	b.ReportMetric(float64(rb.Back.Sub(rb.FirstFailure).Microseconds())/1000, "probe-to-rollback-ms")
}
