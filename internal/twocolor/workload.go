package twocolor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// stripes is the number of row locks: row id's lock is id % stripes.
const stripes = 1024

// model is what the rows must hold: each row's last committed value, kept
// under a lock per row (striped) that every operation on the row holds
// from before it is sent until its outcome is recorded. Writes to one row
// are so serialized in this process, and the model knows their order.
type model struct {
	locks [stripes]sync.Mutex

	mu   sync.Mutex
	rows map[int64]entry

	last atomic.Int64 // the highest id inserted or seeded
	seq  atomic.Int64 // the last value number handed out
}

type entry struct {
	value string
	by    string // the color that wrote it, "seed" for the seeded rows
}

func newModel() *model { return &model{rows: map[int64]entry{}} }

func (m *model) get(id int64) (entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.rows[id]
	return e, ok
}

func (m *model) set(id int64, e entry) {
	m.mu.Lock()
	m.rows[id] = e
	m.mu.Unlock()
}

func (m *model) drop(id int64) {
	m.mu.Lock()
	delete(m.rows, id)
	m.mu.Unlock()
}

// freeze waits for every operation in flight and stops new ones until the
// returned function is called; the caller takes its snapshot meanwhile.
func (m *model) freeze() (rows map[int64]entry, thaw func()) {
	for i := range m.locks {
		m.locks[i].Lock()
	}
	m.mu.Lock()
	rows = make(map[int64]entry, len(m.rows))
	for id, e := range m.rows {
		rows[id] = e
	}
	m.mu.Unlock()
	return rows, func() {
		for i := range m.locks {
			m.locks[i].Unlock()
		}
	}
}

// recent is how many of the newest rows get half of the updates, deletes
// and reads: an application works on fresh rows most, and a row one
// color just inserted is then soon written and read by the other.
const recent = 1000

// pick returns an existing id (maybe deleted) whose lock it took, or 0
// when every lock it tried was busy.
func (m *model) pick() int64 {
	last := m.last.Load()
	for range 8 {
		id := 1 + rand.Int64N(last)
		if last > recent && rand.IntN(2) == 0 {
			id = last - rand.Int64N(recent)
		}
		if m.locks[id%stripes].TryLock() {
			return id
		}
	}
	return 0
}

func (m *model) unlock(id int64) { m.locks[id%stripes].Unlock() }

// color is one release's workload: a pool that sends inserts, updates,
// deletes and reads at a fixed rate, open loop (an operation's latency
// counts from when it was due), each with a client timeout.
type color struct {
	name    string
	code    Color
	kind    Kind
	model   *model
	pool    *pgxpool.Pool
	timeout time.Duration
	// contractAt is when the contract started (UnixNano), 0 before.
	contractAt *atomic.Int64

	cancel context.CancelFunc
	loop   sync.WaitGroup
	ops    sync.WaitGroup
	start  time.Time

	mu        sync.Mutex
	stats     Stats
	writeLat  []time.Duration
	errors    map[string]int
	anomalies []string
}

// maxInFlight bounds the operations waiting at once (for a connection or
// a lock): past it the dispatcher waits too, and the lag counts.
const maxInFlight = 256

// startColor connects a pool of conns to url (with search_path set when
// searchPath is not empty) and starts sending rate operations a second,
// for at most maxRun.
func startColor(ctx context.Context, name, url, searchPath string, code Color, k Kind, m *model, cfg Config, contractAt *atomic.Int64, maxRun time.Duration) (*color, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%s color: %w", name, err)
	}
	pc.MaxConns = int32(cfg.Conns)
	pc.MinConns = int32(cfg.Conns)
	pc.ConnConfig.RuntimeParams["application_name"] = "twocolor-" + name
	if searchPath != "" {
		pc.ConnConfig.RuntimeParams["search_path"] = searchPath
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("%s color: %w", name, err)
	}
	if err := warm(ctx, pool, cfg.Conns, code); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s color: %w", name, err)
	}
	lctx, cancel := context.WithTimeout(ctx, maxRun)
	c := &color{name: name, code: code, kind: k, model: m, pool: pool, timeout: cfg.OpTimeout, contractAt: contractAt,
		cancel: cancel, start: time.Now(), errors: map[string]int{}}
	c.loop.Add(1)
	go c.run(lctx, cfg.Rate, int(float64(cfg.Rate)*maxRun.Seconds()))
	return c, nil
}

// warm opens every connection of the pool before the first operation,
// and sends each of code's statements once on each (in a transaction
// rolled back): a release that has been running has them all prepared,
// which matters when the schema changes under it.
func warm(ctx context.Context, pool *pgxpool.Pool, n int, code Color) error {
	held := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range held {
			c.Release()
		}
	}()
	for range n {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		held = append(held, c)
		for _, st := range []struct {
			sql  string
			args []any
		}{{code.Insert, []any{int64(-1), "warm"}}, {code.Update, []any{int64(-1), "warm"}}, {code.Delete, []any{int64(-1)}}, {code.Read, []any{int64(-1)}}} {
			tx, err := c.Begin(ctx)
			if err != nil {
				return err
			}
			_, _ = tx.Exec(ctx, st.sql, st.args...) // an error is the change's, seen by the first real operation
			if err := tx.Rollback(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// run dispatches operation i at start + i/rate until stopped, ctx ends or
// maxOps were sent.
func (c *color) run(ctx context.Context, rate, maxOps int) {
	defer c.loop.Done()
	interval := time.Second / time.Duration(rate)
	sem := make(chan struct{}, maxInFlight)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; i < maxOps; i++ {
		due := c.start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		c.ops.Add(1)
		go func() {
			defer func() { <-sem; c.ops.Done() }()
			c.op(due)
		}()
	}
}

// Operation mix, in percent: inserts, updates, deletes; the rest are reads.
const (
	pctInsert = 25
	pctUpdate = 35
	pctDelete = 5
)

type opKind int

const (
	opInsert opKind = iota
	opUpdate
	opDelete
	opRead
)

func randomOp() opKind {
	switch r := rand.IntN(100); {
	case r < pctInsert:
		return opInsert
	case r < pctInsert+pctUpdate:
		return opUpdate
	case r < pctInsert+pctUpdate+pctDelete:
		return opDelete
	}
	return opRead
}

// op sends one operation due at due and records its outcome.
func (c *color) op(due time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	m := c.model
	kind := randomOp()
	var id int64
	if kind == opInsert {
		id = m.last.Add(1)
		m.locks[id%stripes].Lock()
	} else if id = m.pick(); id == 0 {
		return // every row tried is busy: a snapshot is being taken
	}
	defer m.unlock(id)

	var err error
	var anomaly string
	switch kind {
	case opInsert:
		v := c.kind.value(m.seq.Add(1))
		if _, err = c.pool.Exec(ctx, c.code.Insert, id, v); err == nil {
			m.set(id, entry{v, c.name})
		}
	case opUpdate, opDelete:
		anomaly, err = c.write(ctx, kind, id)
	case opRead:
		anomaly, err = c.check(ctx, id)
	}
	c.record(due, time.Now(), kind != opRead, err, anomaly)
}

// write updates or deletes row id; a write that finds no row where the
// model has one is an anomaly.
func (c *color) write(ctx context.Context, kind opKind, id int64) (anomaly string, err error) {
	m := c.model
	v := c.kind.value(m.seq.Add(1))
	var n int64
	if kind == opUpdate {
		tag, err := c.pool.Exec(ctx, c.code.Update, id, v)
		if err != nil {
			return "", err
		}
		n = tag.RowsAffected()
	} else {
		tag, err := c.pool.Exec(ctx, c.code.Delete, id)
		if err != nil {
			return "", err
		}
		n = tag.RowsAffected()
	}
	e, had := m.get(id)
	switch {
	case n == 0 && had:
		m.drop(id)
		return fmt.Sprintf("%s found no row %d, which %s wrote (%s)", c.name, id, e.by, e.value), nil
	case n > 0 && kind == opUpdate:
		m.set(id, entry{v, c.name})
	case n > 0:
		m.drop(id)
	}
	return "", nil
}

// check reads row id and compares it with the model.
func (c *color) check(ctx context.Context, id int64) (anomaly string, err error) {
	got, found, err := c.read(ctx, id)
	if err != nil {
		return "", err
	}
	e, had := c.model.get(id)
	switch {
	case found && !had:
		return fmt.Sprintf("%s read row %d, which was deleted or never inserted", c.name, id), nil
	case !found && had:
		return fmt.Sprintf("%s found no row %d, which %s wrote (%s)", c.name, id, e.by, e.value), nil
	case found && got != e.value:
		return fmt.Sprintf("%s read row %d: %q, but %s wrote %q last", c.name, id, got, e.by, e.value), nil
	}
	return "", nil
}

// read returns the first column of code.Read's first row, as text.
func (c *color) read(ctx context.Context, id int64) (string, bool, error) {
	rows, err := c.pool.Query(ctx, c.code.Read, id)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	var got string
	found := false
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return "", false, err
		}
		if !found && len(vals) > 0 {
			got, found = text(vals[0]), true
		}
	}
	return got, found, rows.Err()
}

// text prints a column's value as the model keeps it.
func text(v any) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}

func (c *color) record(due, end time.Time, write bool, err error, anomaly string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.stats
	s.Ops++
	if write {
		s.Writes++
		lat := end.Sub(due)
		c.writeLat = append(c.writeLat, lat)
		s.MaxWrite = max(s.MaxWrite, lat)
	} else {
		s.Reads++
	}
	if err != nil {
		s.Failed++
		if at := c.contractAt.Load(); at != 0 && end.UnixNano() >= at {
			s.FailedAfter++
		}
		msg := err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("client timeout (%s)", c.timeout)
		}
		c.errors[msg]++
	}
	if anomaly != "" {
		s.Anomalies++
		if len(c.anomalies) < 3 {
			c.anomalies = append(c.anomalies, anomaly)
		}
	}
}

// stop stops sending, waits for the operations in flight, closes the pool
// and returns the figures.
func (c *color) stop() Stats {
	c.cancel()
	c.loop.Wait()
	elapsed := time.Since(c.start)
	c.ops.Wait()
	c.pool.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Rate = float64(s.Ops) / elapsed.Seconds()
	if len(c.writeLat) > 0 {
		lat := slices.Clone(c.writeLat)
		slices.Sort(lat)
		s.P99Write = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	for msg, n := range c.errors {
		s.Errors = append(s.Errors, Count{msg, n})
	}
	sort.Slice(s.Errors, func(i, j int) bool {
		if s.Errors[i].N != s.Errors[j].N {
			return s.Errors[i].N > s.Errors[j].N
		}
		return s.Errors[i].Message < s.Errors[j].Message
	})
	s.AnomalyExamples = c.anomalies
	return s
}
