package switchertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// KeepAlive measures what switches do to clients holding keep-alive
// connections: 8 clients send requests through in.Frontend while the
// switcher flips 6 times. It logs the requests that failed, those Go's
// transport retried on a new connection after the old one was closed under
// it, and the connections opened beyond the first ones; only failed
// requests fail the test (Go retries idempotent requests).
func KeepAlive(t *testing.T, name string, in Instance) {
	t.Helper()
	sw := in.Switcher
	const workers, switches = 8, 6

	var requests, failures, attempts, newConns atomic.Int64
	var firstErr atomic.Value
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var tries int64
				trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
					tries++
					if !info.Reused {
						newConns.Add(1)
					}
				}}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, in.Frontend, nil)
				resp, err := client.Do(req)
				if ctx.Err() != nil {
					return
				}
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				requests.Add(1)
				attempts.Add(tries)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	baseline := newConns.Load()
	var took time.Duration
	for i := range switches {
		c := switcher.Green
		if i%2 == 1 {
			c = switcher.Blue
		}
		start := time.Now()
		if err := sw.Switch(context.Background(), c); err != nil {
			t.Errorf("Switch(%s): %v", c, err)
		}
		took += time.Since(start)
		time.Sleep(300 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	tr.CloseIdleConnections()
	t.Logf("%s under keep-alive load: %d switches (mean %v each), %d requests, %d failed, %d retried by the client on a new connection, %d connections reopened after the first %d (each a keep-alive connection the load balancer closed)",
		name, switches, (took / switches).Round(time.Millisecond), requests.Load(), failures.Load(), attempts.Load()-requests.Load(), newConns.Load()-baseline, baseline)
	if failures.Load() > 0 {
		t.Errorf("%d requests failed; first: %v", failures.Load(), firstErr.Load())
	}
}
