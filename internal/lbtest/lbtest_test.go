package lbtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/lbtest"
	"github.com/bgmigrate/bgmigrate/internal/testapp"
	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/haproxy"
)

// start starts HAProxy in front of two servers answering their color.
func start(t *testing.T) *lbtest.LB {
	t.Helper()
	addr := func(color string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, color)
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	return lbtest.HAProxy(t, addr("blue"), addr("green"))
}

func open(t *testing.T, rawURL string) switcher.Switcher {
	t.Helper()
	s, err := switcher.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatalf("switcher.Open(%s): %v", rawURL, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantColor(t *testing.T, h *lbtest.LB, want string) {
	t.Helper()
	for range 3 {
		if status, body := h.Get(t, "/"); status != 200 || body != want {
			t.Fatalf("GET / through the frontend = %d %q, want 200 %q", status, body, want)
		}
	}
	if got := h.Active(t); got != want {
		t.Fatalf("Active = %q, want %q", got, want)
	}
}

func TestURLs(t *testing.T) {
	t.Parallel()
	h := start(t)
	u, err := url.Parse(h.Switcher)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "haproxy" || u.Path != h.Sock || q.Get("map") != h.Dir+"/color.map" || q.Get("key") != "app" ||
		q.Get("blue") != "app_blue" || q.Get("green") != "app_green" {
		t.Errorf("Switcher = %q", h.Switcher)
	}
	if want := "haproxy://" + h.Sock + "?backend=app&blue=blue_srv&green=green_srv"; h.WeightedSwitcher != want {
		t.Errorf("WeightedSwitcher = %q, want %q", h.WeightedSwitcher, want)
	}
	for _, fe := range []string{h.Frontend, h.Weighted} {
		if !strings.HasPrefix(fe, "http://127.0.0.1:") {
			t.Errorf("frontend URL %q", fe)
		}
	}
	if _, err := os.Stat(h.Sock); err != nil {
		t.Error(err)
	}
}

func TestMapMode(t *testing.T) {
	t.Parallel()
	h := start(t)
	wantColor(t, h, "blue")
	s := open(t, h.Switcher)
	ctx := context.Background()
	if c, err := s.Active(ctx); err != nil || c != switcher.Blue {
		t.Fatalf("switcher Active = %q, %v; want blue", c, err)
	}
	if err := s.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	wantColor(t, h, "green")
	if err := s.Switch(ctx, switcher.Blue); err != nil {
		t.Fatal(err)
	}
	wantColor(t, h, "blue")
}

// TestTestApp puts the project's test app behind HAProxy, as the
// end-to-end tests of bgmigrate deploy do.
func TestTestApp(t *testing.T) {
	t.Parallel()
	blue := testapp.Start(t, "blue", "v1", testapp.Options{})
	green := testapp.Start(t, "green", "v2", testapp.Options{})
	h := lbtest.HAProxy(t, blue.Addr, green.Addr)
	if status, body := h.Get(t, "/"); status != 200 || body != "blue v1\n" {
		t.Fatalf("GET / = %d %q, want blue v1", status, body)
	}
	if err := open(t, h.Switcher).Switch(context.Background(), switcher.Green); err != nil {
		t.Fatal(err)
	}
	if status, body := h.Get(t, "/"); status != 200 || body != "green v2\n" {
		t.Fatalf("GET / after the switch = %d %q, want green v2", status, body)
	}
	green.App.Stop()
	if status, _ := h.Get(t, "/healthz"); status != 503 {
		t.Fatalf("GET /healthz of a stopped color = %d, want 503", status)
	}
	if blue.App.State().Requests != 1 || green.App.State().Requests != 2 {
		t.Errorf("requests: blue %+v, green %+v", blue.App.State(), green.App.State())
	}
}

// TestStopRestart stops HAProxy under a switcher, as a fault test does,
// and restarts it with the color of the last switch.
func TestStopRestart(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := open(t, h.Switcher)
	ctx := context.Background()
	if err := s.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}

	h.Stop()
	if _, err := os.Stat(h.Sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("admin socket after Stop: %v, want it gone", err)
	}
	var pe *switcher.ProviderError
	if err := s.Switch(ctx, switcher.Blue); !errors.As(err, &pe) {
		t.Fatalf("Switch with haproxy stopped = %v, want a *switcher.ProviderError", err)
	} else {
		t.Log(err)
	}
	if _, err := switcher.Open(ctx, h.Switcher); !errors.As(err, &pe) {
		t.Fatalf("Open with haproxy stopped = %v, want a *switcher.ProviderError", err)
	}
	if _, err := http.Get(h.Frontend + "/"); err == nil {
		t.Fatal("the frontend answered with haproxy stopped")
	}
	h.Stop() // a second Stop does nothing

	h.Restart(t)
	wantColor(t, h, "green")
	s = open(t, h.Switcher)
	if err := s.Switch(ctx, switcher.Blue); err != nil {
		t.Fatal(err)
	}
	wantColor(t, h, "blue")
	h.Restart(t) // while running
	wantColor(t, h, "blue")
}

// TestWeighted splits traffic through the server-mode frontend, through
// the unix and the TCP admin sockets.
func TestWeighted(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, u := range []string{h.WeightedSwitcher, "haproxy://" + h.TCPAdmin + "?backend=app&blue=blue_srv&green=green_srv"} {
		w, ok := open(t, u).(switcher.Weighted)
		if !ok {
			t.Fatalf("%s is not a switcher.Weighted", u)
		}
		ctx := context.Background()
		if got := colors(t, h.Weighted, 6); got != "blue" {
			t.Fatalf("before SetWeights the weighted frontend answered %s", got)
		}
		if err := w.SetWeights(ctx, switcher.Green, 50); err != nil {
			t.Fatal(err)
		}
		if got := colors(t, h.Weighted, 6); got != "blue,green" {
			t.Fatalf("at 50%% green the weighted frontend answered %s, want both", got)
		}
		if err := w.Switch(ctx, switcher.Green); err != nil {
			t.Fatal(err)
		}
		if got := colors(t, h.Weighted, 6); got != "green" {
			t.Fatalf("after Switch(green) the weighted frontend answered %s", got)
		}
		if err := w.Switch(ctx, switcher.Blue); err != nil {
			t.Fatal(err)
		}
		// The map-mode frontend did not move.
		wantColor(t, h, "blue")
	}
}

// colors sends n requests to a frontend and returns the colors that
// answered, sorted and joined with commas.
func colors(t *testing.T, frontend string, n int) string {
	t.Helper()
	seen := map[string]bool{}
	for range n {
		resp, err := http.Get(frontend + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %s %q", frontend, resp.Status, b)
		}
		seen[string(b)] = true
	}
	var out []string
	for _, c := range []string{"blue", "green"} {
		if seen[c] {
			out = append(out, c)
			delete(seen, c)
		}
	}
	for c := range seen {
		out = append(out, "unexpected "+c)
	}
	return strings.Join(out, ",")
}
