package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/etcd"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// One etcd serves the whole package; each instance gets its own key.
var (
	etcdOnce sync.Once
	etcdAddr string // host:port of the client listener
	etcdErr  error
	etcdStop func()
	keySeq   atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if etcdStop != nil {
		etcdStop()
	}
	os.Exit(code)
}

// unavailable fails the test in CI, where etcd must be installed, and
// skips it elsewhere.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	ci.Unavailable(t, "%s (apt-get install -y etcd-server)", msg)
}

// startEtcd starts the package's etcd once, in a temporary data dir on free
// ports of 127.0.0.1; TestMain stops it by PID.
func startEtcd(t *testing.T) string {
	t.Helper()
	etcdOnce.Do(func() {
		bin, err := exec.LookPath("etcd")
		if err != nil {
			etcdErr = errors.New("etcd not found in PATH")
			return
		}
		for range 5 {
			if etcdErr = launch(t, bin); etcdErr == nil {
				return
			}
		}
	})
	if etcdErr != nil {
		unavailable(t, "cannot start etcd: %v", etcdErr)
	}
	return etcdAddr
}

func launch(t *testing.T, bin string) error {
	dir, err := os.MkdirTemp("", "bgmigrate-etcd-")
	if err != nil {
		return err
	}
	client := fmt.Sprintf("127.0.0.1:%d", switchertest.FreePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", switchertest.FreePort(t))
	cmd := exec.Command(bin,
		"--name", "test",
		"--data-dir", dir,
		"--listen-client-urls", "http://"+client,
		"--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "test="+peer,
		"--log-level", "error",
	)
	var out strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		switchertest.Stop(cmd, exited)
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if healthy(client) {
			etcdAddr, etcdStop = client, stop
			return nil
		}
		select {
		case err := <-exited:
			os.RemoveAll(dir)
			mu.Lock()
			defer mu.Unlock()
			return fmt.Errorf("etcd exited: %v: %s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return errors.New("etcd not healthy within 20s")
		}
	}
}

// healthy asks etcd's /health endpoint over plain HTTP.
func healthy(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprintf(c, "GET /health HTTP/1.0\r\nHost: %s\r\n\r\n", addr); err != nil {
		return false
	}
	buf := make([]byte, 1024)
	var got strings.Builder
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return strings.Contains(got.String(), `"health":"true"`)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// rawClient is a plain etcd client, to look at keys behind the switcher.
func rawClient(t *testing.T, addr string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + addr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// fresh opens a switcher on a new key of the package's etcd.
func fresh(t *testing.T) (switcher.Switcher, string) {
	addr := startEtcd(t)
	key := fmt.Sprintf("/bgmigrate/test-%d/active", keySeq.Add(1))
	return switchertest.Open(t, "etcd://"+addr+key), key
}

func TestConformance(t *testing.T) {
	switchertest.Run(t, switchertest.Harness{
		Name: "etcd",
		Open: func(t *testing.T) switchertest.Instance {
			sw, _ := fresh(t)
			if err := sw.Switch(context.Background(), switcher.Blue); err != nil {
				t.Fatalf("initial Switch(blue): %v", err)
			}
			return switchertest.Instance{Switcher: sw} // etcd carries no traffic
		},
	})
}

// TestMissingKey: Active on a key never written is ErrNotFound.
func TestMissingKey(t *testing.T) {
	sw, _ := fresh(t)
	_, err := sw.Active(context.Background())
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) || !errors.Is(err, switcher.ErrNotFound) {
		t.Fatalf("Active on a missing key = %v, want a ProviderError wrapping ErrNotFound", err)
	}
}

// TestSwitchToActiveWritesNothing: the key's revision does not move when
// the color is already active, so watchers are not woken.
func TestSwitchToActiveWritesNothing(t *testing.T) {
	addr := startEtcd(t)
	key := fmt.Sprintf("/bgmigrate/test-%d/active", keySeq.Add(1))
	sw := switchertest.Open(t, "etcd://"+addr+key)
	ctx := context.Background()
	if err := sw.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	cli := rawClient(t, addr)
	rev := func() int64 {
		resp, err := cli.Get(ctx, key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("get %s: %v, %v", key, resp, err)
		}
		return resp.Kvs[0].ModRevision
	}
	before := rev()
	if err := sw.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	if after := rev(); after != before {
		t.Errorf("switch to the active color moved the key's revision from %d to %d", before, after)
	}
}

// TestInvalidValue: a key holding something else than a color is an error
// naming the value.
func TestInvalidValue(t *testing.T) {
	addr := startEtcd(t)
	key := fmt.Sprintf("/bgmigrate/test-%d/active", keySeq.Add(1))
	if _, err := rawClient(t, addr).Put(context.Background(), key, "purple"); err != nil {
		t.Fatal(err)
	}
	sw := switchertest.Open(t, "etcd://"+addr+key)
	_, err := sw.Active(context.Background())
	var ice *switcher.InvalidColorError
	if !errors.As(err, &ice) || !strings.Contains(err.Error(), "purple") {
		t.Errorf("Active on a key holding purple = %v, want an InvalidColorError", err)
	}
}

// TestUnreachable: an endpoint nobody listens on gives a ProviderError
// naming the endpoint, within the timeout.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", switchertest.FreePort(t))
	sw := switchertest.Open(t, "etcd://"+addr+"/bgmigrate/app/active?timeout=500ms")
	start := time.Now()
	_, errActive := sw.Active(context.Background())
	errSwitch := sw.Switch(context.Background(), switcher.Green)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("two requests to an unreachable etcd took %v, want about 2×500ms", d)
	}
	for op, err := range map[string]error{"active": errActive, "switch": errSwitch} {
		var pe *switcher.ProviderError
		if !errors.As(err, &pe) {
			t.Fatalf("%s on an unreachable etcd = %v, want *switcher.ProviderError", op, err)
		}
		if pe.Provider != "etcd" || pe.Op != op || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: %v; want provider etcd, op %s, naming %s", op, err, op, addr)
		}
	}
	t.Logf("error: %v", errActive)
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"etcd:///bgmigrate/app/active",       // no endpoint
		"etcd://127.0.0.1:2379",              // no key
		"etcd://127.0.0.1:2379/",             // no key
		"etcd://127.0.0.1:2379/k?bad=1",      // unknown key
		"etcd://127.0.0.1:2379/k?timeout=0s", // bad timeout
		"etcd://127.0.0.1:2379,/k",           // empty endpoint
	} {
		if sw, err := switcher.Open(context.Background(), raw); err == nil {
			sw.Close()
			t.Errorf("Open(%s) succeeded, want an error", raw)
		}
	}
}
