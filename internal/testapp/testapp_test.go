package testapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/testapp"
)

var client = &http.Client{Timeout: 10 * time.Second}

// do sends one request and returns the status, the headers and the body.
func do(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func wantStatus(t *testing.T, method, url string, want int) string {
	t.Helper()
	got, _, body := do(t, method, url)
	if got != want {
		t.Fatalf("%s %s = %d %q, want %d", method, url, got, body, want)
	}
	return body
}

// state reads GET /admin/state.
func state(t *testing.T, in *testapp.Instance) testapp.State {
	t.Helper()
	var st testapp.State
	if err := json.Unmarshal([]byte(wantStatus(t, "GET", in.URL+"/admin/state", 200)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitState polls GET /admin/state until ok holds, for up to 10 s.
func waitState(t *testing.T, in *testapp.Instance, ok func(testapp.State) bool) testapp.State {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := state(t, in)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("state still %+v after 10s", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "blue", "v1", testapp.Options{})
	for _, tc := range []struct{ path, body string }{
		{"/", "blue v1\n"},
		{"/orders/42?x=1", "blue v1\n"},
		{"/healthz", "ok"},
	} {
		status, h, body := do(t, "GET", in.URL+tc.path)
		if status != 200 || body != tc.body {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.path, status, body, tc.body)
		}
		if h.Get("X-Color") != "blue" || h.Get("X-Version") != "v1" {
			t.Errorf("GET %s: X-Color %q, X-Version %q; want blue, v1", tc.path, h.Get("X-Color"), h.Get("X-Version"))
		}
	}
	if in.URL != "http://"+in.Addr || !strings.HasPrefix(in.Addr, "127.0.0.1:") {
		t.Errorf("URL %q, Addr %q", in.URL, in.Addr)
	}
}

// TestDeployNotReadyAtOnce checks that a deploy makes the app not ready
// before it returns.
func TestDeployNotReadyAtOnce(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "green", "v1", testapp.Options{DeployDelay: time.Hour})
	if body := wantStatus(t, "POST", in.URL+"/admin/deploy?version=v2", 202); body != "deploying v2\n" {
		t.Errorf("deploy answered %q", body)
	}
	wantStatus(t, "GET", in.URL+"/", 503)
	wantStatus(t, "GET", in.URL+"/healthz", 503)
	st := state(t, in)
	if want := (testapp.State{Color: "green", Version: "v1", Deploys: 1, Requests: 2}); st != want {
		t.Errorf("state during the deploy = %+v, want %+v", st, want)
	}
}

func TestDeployVersions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version        string
		ready          bool
		root, healthz  int
		rootBodyPrefix string
	}{
		{"v2", true, 200, 200, "blue v2\n"},
		{"v2-broken", true, 500, 200, "blue v2-broken: broken"},
		{"v2-never-ready", false, 503, 503, "blue v2-never-ready: not ready"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			in := testapp.Start(t, "blue", "v1", testapp.Options{DeployDelay: 10 * time.Millisecond})
			wantStatus(t, "POST", in.URL+"/admin/deploy?version="+tc.version, 202)
			st := waitState(t, in, func(st testapp.State) bool { return st.Version == tc.version })
			if st.Ready != tc.ready || st.Deploys != 1 {
				t.Errorf("state after the deploy = %+v, want ready %v, 1 deploy", st, tc.ready)
			}
			if body := wantStatus(t, "GET", in.URL+"/", tc.root); !strings.HasPrefix(body, tc.rootBodyPrefix) {
				t.Errorf("GET / = %q, want %q…", body, tc.rootBodyPrefix)
			}
			wantStatus(t, "GET", in.URL+"/healthz", tc.healthz)
		})
	}
}

// TestDeploySupersedes checks that a deploy started while another is
// pending wins.
func TestDeploySupersedes(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "blue", "v1", testapp.Options{DeployDelay: 30 * time.Millisecond})
	wantStatus(t, "POST", in.URL+"/admin/deploy?version=v2", 202)
	wantStatus(t, "POST", in.URL+"/admin/deploy?version=v3", 202)
	st := waitState(t, in, func(st testapp.State) bool { return st.Ready })
	if st.Version != "v3" || st.Deploys != 2 {
		t.Fatalf("first ready state = %+v, want v3 after 2 deploys", st)
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "blue", "v1", testapp.Options{DeployDelay: -1})
	wantStatus(t, "POST", in.URL+"/admin/fail?status=500", 200)
	wantStatus(t, "GET", in.URL+"/", 500)
	wantStatus(t, "GET", in.URL+"/healthz", 500)
	if st := state(t, in); st.FailStatus != 500 {
		t.Errorf("fail_status = %d, want 500", st.FailStatus)
	}
	// A deploy does not clear it.
	wantStatus(t, "POST", in.URL+"/admin/deploy?version=v2", 202)
	wantStatus(t, "GET", in.URL+"/healthz", 500)
	wantStatus(t, "POST", in.URL+"/admin/fail?status=0", 200)
	if body := wantStatus(t, "GET", in.URL+"/", 200); body != "blue v2\n" {
		t.Errorf("GET / = %q after status=0", body)
	}
	for _, q := range []string{"", "?status=", "?status=abc", "?status=42", "?status=600", "?status=-1"} {
		wantStatus(t, "POST", in.URL+"/admin/fail"+q, 400)
	}
	wantStatus(t, "GET", in.URL+"/", 200)
}

func TestStopStart(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "green", "v1", testapp.Options{DeployDelay: -1})
	wantStatus(t, "POST", in.URL+"/admin/stop", 200)
	wantStatus(t, "GET", in.URL+"/", 503)
	wantStatus(t, "GET", in.URL+"/healthz", 503)
	if st := state(t, in); !st.Stopped || !st.Ready {
		t.Errorf("state after stop = %+v, want stopped and ready", st)
	}
	wantStatus(t, "POST", in.URL+"/admin/start", 200)
	wantStatus(t, "GET", in.URL+"/", 200)

	// The next deploy undoes a stop.
	wantStatus(t, "POST", in.URL+"/admin/stop", 200)
	wantStatus(t, "POST", in.URL+"/admin/deploy?version=v2", 202)
	if body := wantStatus(t, "GET", in.URL+"/", 200); body != "green v2\n" {
		t.Errorf("GET / = %q after a deploy", body)
	}
}

func TestAdminErrors(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "blue", "v1", testapp.Options{})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/admin/deploy?version=v2", 405},
		{"GET", "/admin/fail?status=500", 405},
		{"GET", "/admin/stop", 405},
		{"GET", "/admin/start", 405},
		{"POST", "/admin/state", 405},
		{"GET", "/admin/nosuch", 404},
		{"POST", "/admin/deploy", 400},
		{"POST", "/admin/deploy?version=a%20b", 400},
		{"POST", "/admin/deploy?version=a%0Ab", 400},
	} {
		wantStatus(t, tc.method, in.URL+tc.path, tc.want)
	}
	if st := state(t, in); st.Deploys != 0 || !st.Ready || st.Stopped || st.FailStatus != 0 || st.Requests != 0 {
		t.Errorf("state after refused admin requests = %+v", st)
	}
}

// TestStateJSON checks the names of the state's fields and that requests
// counts the non-admin requests only.
func TestStateJSON(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "blue", "v1", testapp.Options{})
	for _, p := range []string{"/", "/a", "/healthz"} {
		wantStatus(t, "GET", in.URL+p, 200)
	}
	wantStatus(t, "POST", in.URL+"/admin/start", 200)
	status, h, body := do(t, "GET", in.URL+"/admin/state")
	if status != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /admin/state = %d, Content-Type %q", status, h.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"color": "blue", "version": "v1", "ready": true, "fail_status": 0.0, "stopped": false, "deploys": 0.0, "requests": 3.0}
	if len(m) != len(want) {
		t.Errorf("state %s, want the fields %v", body, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("state %s: %s = %v, want %v", body, k, m[k], v)
		}
	}
}

// TestLatency checks that latency delays the app but not the admin
// endpoints, and that a request given up on is not counted.
func TestLatency(t *testing.T) {
	t.Parallel()
	slow := testapp.Start(t, "blue", "v1", testapp.Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", slow.URL+"/", nil)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("GET / with a latency of an hour answered %s", resp.Status)
	}
	wantStatus(t, "POST", slow.URL+"/admin/stop", 200)
	if st := state(t, slow); st.Requests != 0 || !st.Stopped {
		t.Errorf("state = %+v, want no request counted and stopped", st)
	}

	const latency = 30 * time.Millisecond
	in := testapp.Start(t, "blue", "v1", testapp.Options{Latency: latency})
	start := time.Now()
	wantStatus(t, "GET", in.URL+"/healthz", 200)
	if d := time.Since(start); d < latency {
		t.Errorf("GET /healthz took %v, less than the latency %v", d, latency)
	}
}

// TestConcurrent reads and drives one app from many goroutines (run it
// with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "blue", "v1", testapp.Options{DeployDelay: time.Millisecond})
	const readers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, readers*each)
	for i := range readers {
		wg.Go(func() {
			path := []string{"/", "/healthz"}[i%2]
			for range each {
				resp, err := client.Get(in.URL + path)
				if err != nil {
					errs <- err
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if !slices.Contains([]int{200, 500, 503}, resp.StatusCode) {
					errs <- errors.New(path + ": " + resp.Status)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			for _, p := range []string{"/admin/deploy?version=v" + string(rune('a'+i)), "/admin/fail?status=500", "/admin/stop", "/admin/start", "/admin/fail?status=0"} {
				resp, err := client.Post(in.URL+p, "", nil)
				if err != nil {
					errs <- err
					continue
				}
				resp.Body.Close()
			}
			_ = in.App.State()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := in.App.State(); st.Requests != readers*each || st.Deploys != 20 {
		t.Errorf("state = %+v, want %d requests and 20 deploys", st, readers*each)
	}
}

// run runs the built command and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(testapp.Binary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestCommandDrives runs the client commands of the built binary, as deploy
// hooks do, against an instance.
func TestCommandDrives(t *testing.T) {
	t.Parallel()
	in := testapp.Start(t, "blue", "v1", testapp.Options{DeployDelay: 20 * time.Millisecond})
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("bgmigrate-testapp %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}

	if out := mustRun("deploy", "--admin", in.URL, "--version", "v2", "--wait", "5s"); !strings.HasPrefix(out, "v2 ready after ") {
		t.Errorf("deploy --wait printed %q", out)
	}
	if body := wantStatus(t, "GET", in.URL+"/", 200); body != "blue v2\n" {
		t.Errorf("GET / after the deploy hook = %q, want blue v2", body)
	}

	var st testapp.State
	if err := json.Unmarshal([]byte(mustRun("state", "--admin", in.URL+"/")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Version != "v2" || !st.Ready || st.Deploys != 1 {
		t.Errorf("state printed %+v", st)
	}

	mustRun("fail", "--admin", in.URL, "--status", "503")
	wantStatus(t, "GET", in.URL+"/healthz", 503)
	mustRun("fail", "--admin", in.URL, "--status", "0")
	mustRun("stop", "--admin", in.URL+"/admin/")
	wantStatus(t, "GET", in.URL+"/", 503)
	mustRun("start", "--admin", in.URL)
	wantStatus(t, "GET", in.URL+"/", 200)

	// A version that never becomes ready fails the hook.
	code, _, errOut := run(t, "deploy", "--admin", in.URL, "--version", "v3-never-ready", "--wait", "300ms")
	if code != 1 || !strings.Contains(errOut, "not ready after 300ms") {
		t.Errorf("deploy of a never-ready version: exit %d, stderr %q; want 1 and not ready", code, errOut)
	}
	// Without --wait the command returns at once.
	if out := mustRun("deploy", "--admin", in.URL, "--version", "v4"); out != "deploying v4\n" {
		t.Errorf("deploy printed %q", out)
	}
}

// TestCommandServe runs serve from the built binary and stops it with
// SIGTERM.
func TestCommandServe(t *testing.T) {
	t.Parallel()
	addrFile := filepath.Join(t.TempDir(), "addr")
	var errOut bytes.Buffer
	cmd := exec.Command(testapp.Binary(t), "serve", "--listen", "127.0.0.1:0", "--color", "green", "--version", "v1",
		"--deploy-delay", "0", "--addr-file", addrFile)
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		b, err := os.ReadFile(addrFile)
		if err == nil {
			addr = string(b)
			break
		}
		select {
		case <-exited:
			t.Fatalf("serve exited: %v: %s", waitErr, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address in %s after 10s", addrFile)
		}
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("address file holds %q: %v", addr, err)
	}
	u := "http://" + addr
	if body := wantStatus(t, "GET", u+"/", 200); body != "green v1\n" {
		t.Errorf("GET / = %q", body)
	}
	// --deploy-delay 0: the deploy is done when it answers.
	wantStatus(t, "POST", u+"/admin/deploy?version=v2", 202)
	if body := wantStatus(t, "GET", u+"/", 200); body != "green v2\n" {
		t.Errorf("GET / after a deploy without delay = %q", body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("serve after SIGTERM: %v: %s", waitErr, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit within 10s of SIGTERM")
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	taken := testapp.Start(t, "blue", "v1", testapp.Options{}).Addr

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "usage"},
		{[]string{"nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"serve", "--version", "v1"}, 2, "--color and --version are required"},
		{[]string{"serve", "--color", "blue", "--version", "v 1"}, 2, "holds"},
		{[]string{"serve", "--color", "blue", "--version", "v1", "--listen", taken}, 1, "address already in use"},
		{[]string{"deploy", "--version", "v2"}, 2, "--admin is required"},
		{[]string{"deploy", "--admin", closed}, 2, "version is empty"},
		{[]string{"fail", "--admin", closed}, 2, "--status is required"},
		{[]string{"state", "--admin", "ftp://x"}, 2, "want a URL"},
		{[]string{"state", "--bogus"}, 2, "bogus"},
		{[]string{"state", "--admin", closed, "extra"}, 2, "unexpected arguments"},
		{[]string{"state", "--admin", closed}, 1, "connection refused"},
		{[]string{"deploy", "--admin", closed, "--version", "v2"}, 1, "connection refused"},
		{[]string{"help"}, 0, ""},
		{[]string{"stop", "-h"}, 0, "-admin"},
	} {
		var stdout, stderr bytes.Buffer
		code := testapp.Main(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("Main(%q) = %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
	}
	// The binary exits with Main's code.
	if code, _, errOut := run(t, "fail", "--admin", closed); code != 2 || !strings.Contains(errOut, "--status is required") {
		t.Errorf("bgmigrate-testapp fail without --status: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := run(t, "state", "--admin", closed); code != 1 || !strings.Contains(errOut, "connection refused") {
		t.Errorf("bgmigrate-testapp state with nothing serving: exit %d, stderr %q", code, errOut)
	}
}
