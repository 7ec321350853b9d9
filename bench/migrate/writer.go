package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// writer is the application under the migration: a connection pool that
// sends UPDATEs and INSERTs on t at a fixed rate, each with a client
// timeout, and records how long each took from the moment it was due (so a
// stall counts for every write that waited in it, not only the first).
type writer struct {
	pool    *pgxpool.Pool
	rows    int64
	timeout time.Duration
	cancel  context.CancelFunc
	loop    sync.WaitGroup
	writes  sync.WaitGroup
	start   time.Time

	mu       sync.Mutex
	lat      []time.Duration
	inDB     time.Duration // the longest a write took once it had a connection
	failed   int
	timeouts int
	example  string // the first failure that was not a timeout
	failedAt []time.Time
}

// writeStats sums up a writer's run.
type writeStats struct {
	Writes   int
	Rate     float64 // writes per second over the run
	Failed   int     // errors of any kind, timeouts included
	Timeouts int     // failed on the client timeout
	Example  string  // one failure other than a timeout
	P50, P99 time.Duration
	Max      time.Duration
	FailedAt []time.Time // when each failed write returned
	// MaxInDB leaves out the wait for a pool connection: the longest a
	// write spent in the database (in a lock queue, mostly).
	MaxInDB time.Duration
}

// startWriter connects a pool of size conns to url and starts writing rate
// times a second. rows is the key range of the rows it updates.
func startWriter(ctx context.Context, url string, rate, conns int, rows int64, timeout time.Duration) (*writer, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("writer: %w", err)
	}
	cfg.MaxConns = int32(conns)
	cfg.MinConns = int32(conns)
	cfg.ConnConfig.RuntimeParams["application_name"] = "bench-writer"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("writer pool: %w", err)
	}
	if err := warm(ctx, pool, conns); err != nil {
		pool.Close()
		return nil, fmt.Errorf("writer: %w", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	w := &writer{pool: pool, rows: rows, timeout: timeout, cancel: cancel, start: time.Now()}
	w.loop.Add(1)
	go w.run(lctx, rate)
	return w, nil
}

// warm opens all conns connections of the pool before the writer starts,
// so no write pays for a connection being set up.
func warm(ctx context.Context, pool *pgxpool.Pool, conns int) error {
	held := make([]*pgxpool.Conn, 0, conns)
	defer func() {
		for _, c := range held {
			c.Release()
		}
	}()
	for range conns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		held = append(held, c)
	}
	return nil
}

// run dispatches write i at start + i/rate, open loop: when it falls behind
// (the process starved of CPU), it catches up and the lag counts in the
// writes' latency instead of writes being silently dropped.
func (w *writer) run(ctx context.Context, rate int) {
	defer w.loop.Done()
	interval := time.Second / time.Duration(rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; ; i++ {
		due := w.start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		w.writes.Add(1)
		go w.write(due)
	}
}

// write sends one write, due at due. Seven in ten update a random row, the
// others insert one.
func (w *writer) write(due time.Time) {
	defer w.writes.Done()
	// Not the loop's context: stopping the writer lets the writes in
	// flight finish, and they count.
	ctx, cancel := context.WithDeadline(context.Background(), due.Add(w.timeout))
	defer cancel()
	var inDB time.Duration
	conn, err := w.pool.Acquire(ctx)
	if err == nil {
		t := time.Now()
		if rand.IntN(10) < 7 {
			_, err = conn.Exec(ctx, `UPDATE t SET v = v + 1 WHERE id = $1`, 1+rand.Int64N(w.rows))
		} else {
			n := rand.Int64N(w.rows)
			_, err = conn.Exec(ctx, `INSERT INTO t (parent_id, v, note, old_col) VALUES ($1, $2, $3, $4)`,
				1+n%1000, n%1000, fmt.Sprintf("new %d", n), n)
		}
		inDB = time.Since(t)
		conn.Release()
	}
	lat := time.Since(due)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lat = append(w.lat, lat)
	w.inDB = max(w.inDB, inDB)
	if err != nil {
		w.failed++
		w.failedAt = append(w.failedAt, time.Now())
		switch {
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			w.timeouts++
		case w.example == "":
			w.example = err.Error()
		}
	}
}

// stop stops sending, waits for the writes in flight and closes the pool.
func (w *writer) stop() writeStats {
	w.cancel()
	w.loop.Wait()
	el := time.Since(w.start)
	w.writes.Wait()
	w.pool.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	s := writeStats{Writes: len(w.lat), Failed: w.failed, Timeouts: w.timeouts, Example: w.example, MaxInDB: w.inDB, FailedAt: w.failedAt}
	s.Rate = float64(len(w.lat)) / el.Seconds()
	if len(w.lat) > 0 {
		lat := slices.Clone(w.lat)
		slices.Sort(lat)
		s.P50 = lat[len(lat)/2]
		s.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		s.Max = lat[len(lat)-1]
	}
	return s
}

// failedBetween counts the failed writes that returned between from and to.
func (s writeStats) failedBetween(from, to time.Time) int {
	n := 0
	for _, t := range s.FailedAt {
		if !t.Before(from) && !t.After(to) {
			n++
		}
	}
	return n
}
