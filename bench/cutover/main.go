// Command cutover measures a blue-green switch at scale through a real
// load balancer (HAProxy in map mode, nginx by reload) on loopback:
// backends that answer in 100 ms to 1 s, a load ramped to 10,000
// requests in flight (HTTP/2 from the client, HTTP/1.1 to the backends),
// then 10 switches back and forth, each made while the old color holds
// its requests, each followed by a drain that the switcher's in-flight
// reader watches. It prints, per load balancer and per switch, the
// requests in flight at the switch, those the old color answered after
// it, failures and non-2xx answers, and the drain time; then the highest
// request rate (open loop, one switch in each step) served with no error.
//
// It prints figures; nothing here passes or fails on a timing. Traffic
// goes to 127.0.0.1 only and is bounded by -budget requests and -limit.
// With CUTOVER_DEBUG set it also prints the first stale answers of each
// switch, the reader's failures and how long its readings took, and
// keeps the load balancer's directory (configuration and log).
//
//	bench/cutover/run.sh              (raises ulimit -n, builds, runs both)
//	go run ./bench/cutover -lb haproxy -inflight 2000 -switches 4
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/haproxy"
	_ "github.com/bgmigrate/bgmigrate/switcher/nginx"
)

type options struct {
	lbs        []string
	proto      string
	inflight   int
	switches   int
	ramp       time.Duration
	minDelay   time.Duration
	maxDelay   time.Duration
	rates      []int
	rateFor    time.Duration
	budget     int64
	limit      time.Duration
	fds        int
	serve      string
	serveAddr  string
	skipRates  bool
	settleTime time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cutover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	lbs := fs.String("lb", "haproxy,nginx", "load balancers, comma-separated: haproxy, nginx")
	rates := fs.String("rates", "1000,2000,3000,4000,5000,6000,8000,10000", "open-loop request rates to try, ascending; the first not sustained ends them")
	fs.StringVar(&o.proto, "client", "h2", "the clients' protocol to the load balancer: h2 (HTTP/2 without TLS) or h1 (HTTP/1.1, keep-alive)")
	fs.IntVar(&o.inflight, "inflight", 10000, "requests in flight at each switch (closed-loop clients)")
	fs.IntVar(&o.switches, "switches", 10, "switches (blue→green, green→blue, …)")
	fs.DurationVar(&o.ramp, "ramp", 5*time.Second, "time over which the clients start")
	fs.DurationVar(&o.minDelay, "min", 100*time.Millisecond, "shortest backend answer")
	fs.DurationVar(&o.maxDelay, "max", time.Second, "longest backend answer")
	fs.DurationVar(&o.rateFor, "rate-for", 6*time.Second, "length of each open-loop rate step")
	fs.DurationVar(&o.settleTime, "settle", 500*time.Millisecond, "pause after a drain before the next switch")
	fs.Int64Var(&o.budget, "budget", 3_000_000, "most requests the run sends")
	fs.DurationVar(&o.limit, "limit", 10*time.Minute, "longest the run takes")
	fs.IntVar(&o.fds, "fds", 19500, "file descriptors each load balancer process may open (at most ulimit -Hn)")
	fs.BoolVar(&o.skipRates, "no-rates", false, "skip the open-loop rate steps")
	fs.StringVar(&o.serve, "serve", "", "internal: serve as the backend of this color")
	fs.StringVar(&o.serveAddr, "addr", "", "internal: the backend's address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.serve != "" {
		if err := serveBackend(ctx, o.serve, o.serveAddr, o.minDelay, o.maxDelay); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	o.lbs = strings.Split(*lbs, ",")
	for _, r := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			fmt.Fprintf(stderr, "-rates: %q is not a rate\n", r)
			return 2
		}
		o.rates = append(o.rates, n)
	}
	ctx, cancel := context.WithTimeout(ctx, o.limit)
	defer cancel()
	if o.proto != "h1" && o.proto != "h2" {
		fmt.Fprintf(stderr, "-client %q: want h1 or h2\n", o.proto)
		return 2
	}
	fmt.Fprintf(stdout, "cutover: backends answer in %s–%s; %d requests in flight at each of %d switches (clients ramped over %s); %s to the load balancer, HTTP/1.1 to the backends; all on 127.0.0.1\n",
		o.minDelay, o.maxDelay, o.inflight, o.switches, o.ramp, map[string]string{"h1": "HTTP/1.1", "h2": "HTTP/2"}[o.proto])
	code := 0
	for _, name := range o.lbs {
		if err := bench(ctx, name, o, stdout); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			code = 1
		}
	}
	return code
}

// setup is one load balancer with its two backends.
type setup struct {
	lb          *lb
	blue, green *backend
	sw          switcher.Switcher
	reader      switcher.InFlightReader
}

func start(ctx context.Context, name string, o options) (*setup, error) {
	s := &setup{}
	var err error
	bp, err := freePort()
	if err != nil {
		return nil, err
	}
	gp, err := freePort()
	if err != nil {
		return nil, err
	}
	if s.blue, err = startBackend("blue", fmt.Sprintf("127.0.0.1:%d", bp), o.minDelay, o.maxDelay); err != nil {
		return nil, err
	}
	if s.green, err = startBackend("green", fmt.Sprintf("127.0.0.1:%d", gp), o.minDelay, o.maxDelay); err != nil {
		s.close()
		return nil, err
	}
	if s.lb, err = startLB(name, o.proto, s.blue.addr, s.green.addr, o.fds); err != nil {
		s.close()
		return nil, err
	}
	if s.sw, err = switcher.Open(ctx, s.lb.switcher); err != nil {
		s.close()
		return nil, err
	}
	r, ok := s.sw.(switcher.InFlightReader)
	if !ok {
		s.close()
		return nil, fmt.Errorf("%s's switcher reads no requests in flight", name)
	}
	s.reader = r
	return s, nil
}

func (s *setup) backend(c switcher.Color) *backend {
	if c == switcher.Green {
		return s.green
	}
	return s.blue
}

func (s *setup) close() {
	if s.sw != nil {
		s.sw.Close()
	}
	if s.lb != nil {
		s.lb.stop()
	}
	for _, b := range []*backend{s.blue, s.green} {
		if b != nil {
			b.stop()
		}
	}
}

// cut is one switch as the bench saw it.
type cut struct {
	from, to       switcher.Color
	start, done    time.Duration // the Switch call, from the load's start
	readerBefore   int           // the old color's requests in flight just before, as the load balancer said
	backendBefore  int           // the same, as the old color's backend said
	backendDrained int           // the old color's backend's own count when the reader said 0
	drained        time.Duration // from the Switch's return until the reader said 0; -1 when it never did
	readerFailures int
}

func bench(ctx context.Context, name string, o options, w io.Writer) error {
	s, err := start(ctx, name, o)
	if err != nil {
		return err
	}
	defer s.close()
	fmt.Fprintf(w, "\n%s (%s)\n", name, s.lb.switcher)

	l := newLoad(s.lb.frontend, o.proto, o.budget)
	lctx, stopLoad := context.WithCancel(ctx)
	l.closed(lctx, o.inflight, o.ramp)
	active := switcher.Blue
	// Let the ramp finish and the backends fill up.
	if err := sleep(ctx, o.ramp+o.maxDelay); err != nil {
		stopLoad()
		return err
	}
	var cuts []cut
	for i := range o.switches {
		c := cut{from: active, to: active.Other()}
		c.readerBefore = waitFull(ctx, s.reader, active, o.inflight*95/100, 5*time.Second)
		c.backendBefore = s.backend(active).inFlight(ctx)
		c.start = l.since()
		if err := s.sw.Switch(ctx, c.to); err != nil {
			stopLoad()
			return fmt.Errorf("switch %d to %s: %w", i+1, c.to, err)
		}
		c.done = l.since()
		c.drained, c.readerFailures = waitDrained(ctx, s.reader, c.from, l, c.done, 30*time.Second)
		c.backendDrained = s.backend(c.from).inFlight(ctx)
		cuts = append(cuts, c)
		active = c.to
		if err := sleep(ctx, o.settleTime); err != nil {
			break
		}
	}
	stopLoad()
	l.wait()
	report(w, o, l, l.take(), cuts)
	if !o.skipRates && ctx.Err() == nil {
		rates(ctx, w, o, s, active)
	}
	return ctx.Err()
}

// waitFull waits until the reader says color holds at least want
// requests, and returns the last reading.
func waitFull(ctx context.Context, r switcher.InFlightReader, color switcher.Color, want int, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	last := -1
	for ctx.Err() == nil && time.Now().Before(deadline) {
		n, ok, err := r.InFlight(ctx, color)
		if err == nil && ok {
			last = n
			if n >= want {
				return n
			}
		} else if os.Getenv("CUTOVER_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "reader: %d, %v, %v\n", n, ok, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return last
}

// waitDrained polls the reader every 10 ms until color has no request in
// flight, and returns how long after from (on l's clock) that was.
func waitDrained(ctx context.Context, r switcher.InFlightReader, color switcher.Color, l *load, from time.Duration, limit time.Duration) (time.Duration, int) {
	deadline := time.Now().Add(limit)
	failures := 0
	var calls []time.Duration
	defer func() {
		if os.Getenv("CUTOVER_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "drain of %s: %d readings, p50 %s, max %s\n", color, len(calls), quantile(calls, 0.5), quantile(calls, 1))
		}
	}()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		t0 := time.Now()
		n, ok, err := r.InFlight(ctx, color)
		calls = append(calls, time.Since(t0))
		if err != nil || !ok {
			failures++
		} else if n == 0 {
			return l.since() - from, failures
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1, failures
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func colorOf(c switcher.Color) uint8 {
	if c == switcher.Green {
		return green
	}
	return blue
}

// report prints the closed-loop phase: totals, then one line a switch.
func report(w io.Writer, o options, l *load, rs []result, cuts []cut) {
	var failed, non2xx, other int
	var first, last time.Duration = -1, 0
	for _, r := range rs {
		switch {
		case r.failed:
			failed++
		case r.non2xx:
			non2xx++
		case r.color == none:
			other++
		}
		if first < 0 || r.sent < first {
			first = r.sent
		}
		last = max(last, r.recv)
	}
	span := (last - first).Seconds()
	fmt.Fprintf(w, "  %d requests in %.1fs (%.0f/s) at %d clients: failed %d, non-2xx %d, answered by neither color %d\n",
		len(rs), span, float64(len(rs))/span, o.inflight, failed, non2xx, other)
	var drains []time.Duration
	var totalInFlight, totalCompleted, totalStale, totalLost int
	for i, c := range cuts {
		next := time.Duration(1<<62 - 1)
		if i+1 < len(cuts) {
			next = cuts[i+1].start
		}
		old := colorOf(c.from)
		var inFlight, completed, lost, toNew, stale int
		var lastOld time.Duration
		for _, r := range rs {
			if r.sent < c.start && r.recv > c.start {
				inFlight++ // sent before the switch, answered (or failed) after it began
				switch {
				case r.failed || r.non2xx:
					lost++
				case r.color == old:
					completed++
					lastOld = max(lastOld, r.recv-c.done)
				default:
					toNew++ // still in the client or the load balancer's input when the map changed
				}
			}
			if r.sent > c.done && r.recv < next && r.color == old {
				stale++ // sent after the switch returned and answered before the next one began, by the old color
				if os.Getenv("CUTOVER_DEBUG") != "" && stale <= 3 {
					fmt.Fprintf(w, "    stale: sent %.3fs after the switch, answered after %.3fs\n", (r.sent - c.done).Seconds(), (r.recv - r.sent).Seconds())
				}
			}
		}
		drain := "never"
		if c.drained >= 0 {
			drain = fmt.Sprintf("%.2fs (its backend then: %d)", c.drained.Seconds(), c.backendDrained)
			drains = append(drains, c.drained)
		}
		fmt.Fprintf(w, "  switch %2d %s→%s: %6.1fms; in flight %5d (the load balancer's reader: %5d at %s, its backend: %5d); after the switch %5d answered by %s, %5d by %s, %d failed; stale %d; drained after %s (last %s answer %.2fs after the switch)\n",
			i+1, c.from, c.to, (c.done-c.start).Seconds()*1000, inFlight, c.readerBefore, c.from, c.backendBefore, completed, c.from, toNew, c.to, lost, stale, drain, c.from, lastOld.Seconds())
		totalInFlight += inFlight
		totalCompleted += completed
		totalStale += stale
		totalLost += lost
	}
	fmt.Fprintf(w, "  total: %d switches; %d requests in flight at them, %d completed on the old color after the switch, %d failed, %d stale; failed %d, non-2xx %d; drain p50 %.2fs, max %.2fs\n",
		len(cuts), totalInFlight, totalCompleted, totalLost, totalStale, failed, non2xx, quantile(drains, 0.5).Seconds(), quantile(drains, 1).Seconds())
	if len(l.errs) > 0 {
		fmt.Fprintf(w, "  first errors: %s\n", strings.Join(l.errs, "; "))
	}
}

// rates runs the open-loop steps, one switch in the middle of each, and
// prints the highest rate served with no failure, no non-2xx answer, at
// least 98% of the rate sent and a p99 latency within 500 ms of the
// backends' longest answer (beyond, requests queue: the rate is not
// served, only accepted).
func rates(ctx context.Context, w io.Writer, o options, s *setup, active switcher.Color) {
	best := 0
	for _, rate := range o.rates {
		l := newLoad(s.lb.frontend, o.proto, o.budget)
		done := make(chan struct{})
		go func() {
			l.open(ctx, rate, o.rateFor)
			close(done)
		}()
		var switchErr error
		if sleep(ctx, o.rateFor/2) == nil {
			switchErr = s.sw.Switch(ctx, active.Other())
			active = active.Other()
		}
		<-done
		rs := l.take()
		var failed, non2xx int
		var lat []time.Duration
		for _, r := range rs {
			switch {
			case r.failed:
				failed++
			case r.non2xx:
				non2xx++
			default:
				lat = append(lat, r.recv-r.sent)
			}
		}
		sent := float64(len(rs)) / o.rateFor.Seconds()
		// Sustained: every request answered 2xx, the rate sent, and no
		// queue building up: the slowest 1% within half a second of the
		// backends' longest answer.
		p99 := quantile(lat, 0.99)
		ok := failed == 0 && non2xx == 0 && switchErr == nil && sent >= 0.98*float64(rate) && p99 <= o.maxDelay+500*time.Millisecond
		mark := "ok"
		if !ok {
			mark = "NOT SUSTAINED"
		}
		fmt.Fprintf(w, "  rate %5d/s for %s with a switch: sent %6.0f/s, failed %d, non-2xx %d, latency p50 %.2fs p99 %.2fs max %.2fs: %s\n",
			rate, o.rateFor, sent, failed, non2xx, quantile(lat, 0.5).Seconds(), p99.Seconds(), quantile(lat, 1).Seconds(), mark)
		if switchErr != nil {
			fmt.Fprintf(w, "    switch: %v\n", switchErr)
		}
		if len(l.errs) > 0 {
			fmt.Fprintf(w, "    first errors: %s\n", strings.Join(l.errs, "; "))
		}
		if !ok || ctx.Err() != nil {
			break
		}
		best = rate
		// Let the last requests of the step finish.
		if sleep(ctx, o.maxDelay) != nil {
			break
		}
	}
	if best == 0 {
		fmt.Fprintf(w, "  highest rate sustained with 0 errors: none of %v\n", o.rates)
		return
	}
	fmt.Fprintf(w, "  highest rate sustained with 0 errors: %d/s (of the steps %v)\n", best, o.rates)
}
