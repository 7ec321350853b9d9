package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/bgmigrate/bgmigrate/switcher/kubernetes/k8stest"
)

// TestDeployKubernetes runs deploy, a second deploy and rollback through
// the kubernetes switcher against the real API server of
// scripts/k8s-testenv.sh: once by a Service's selector (wait=endpoints),
// once by an HTTPRoute's weights in steps. The two colors of the test app
// stand behind Pods web-blue-0 and web-green-0; the k8stest frontend routes
// each request by the EndpointSlices (or the route) as the API server holds
// them, in place of kube-proxy or a Gateway. The HAProxy newDeployEnv
// starts is left out of the path: the configuration names the kubernetes
// switcher instead.
func TestDeployKubernetes(t *testing.T) {
	t.Parallel()
	c := k8stest.Connect(t)
	for _, kind := range []string{"service", "httproute"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newDeployEnv(t)
			ns := c.Namespace(t)
			a := c.App(t, ns, "web", 1)
			b := k8stest.Backends{a.Pods[switcher.Blue][0]: e.blue.Addr, a.Pods[switcher.Green][0]: e.green.Addr}
			q := url.Values{"kubeconfig": {c.Kubeconfig}}
			var path, frontend, extra string
			if kind == "service" {
				path, frontend = "service/web", c.ServiceFrontend(t, ns, "web", b)
				q.Set("wait", "endpoints")
				q.Set("timeout", "30s")
			} else {
				svcs := c.ColorServices(t, a)
				c.HTTPRoute(t, ns, "web", []any{k8stest.Ref(svcs[switcher.Blue], 100), k8stest.Ref(svcs[switcher.Green], 0)})
				path, frontend = "httproute/web", c.RouteFrontend(t, ns, "web", b)
				q.Set("blue", svcs[switcher.Blue])
				q.Set("green", svcs[switcher.Green])
				extra = "  steps: [30, 60, 100]\n  step_pause: 300ms\n"
			}
			e.useSwitcher("kubernetes://"+ns+"/"+path+"?"+q.Encode(), extra)
			var weights *weightLog
			if kind == "httproute" {
				weights = watchWeights(t, c, ns, "web")
			}

			if r := e.run("deploy", "--version", "v1"); r.code != ExitOK {
				t.Fatalf("deploy v1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			} else {
				t.Logf("deploy v1:\n%s", r.stdout)
			}
			wantServed(t, frontend, "green v1")
			if kind == "service" {
				c.WaitEndpoints(t, ns, "web", a.Pods[switcher.Green]...)
			} else {
				// The steps, each a state of the route the deploy held.
				for _, w := range []string{"web-blue 70 web-green 30", "web-blue 40 web-green 60", "web-blue 0 web-green 100"} {
					if !slices.Contains(weights.seen(), w) {
						t.Errorf("the route never held %q during the deploy; it held %v", w, weights.seen())
					}
				}
			}
			r := e.run("deploy", "--version", "v2")
			if r.code != ExitOK {
				t.Fatalf("deploy v2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			// The drain reads the Service's in-flight Pods; the route
			// cannot tell, so its drain is the timer.
			drain := "green (v1): 0 in flight after"
			if kind == "httproute" {
				drain = "green (v1) drained for"
			}
			if !strings.Contains(r.stdout, drain) {
				t.Errorf("deploy v2: no %q in the drain step of\n%s", drain, r.stdout)
			}
			wantServed(t, frontend, "blue v2")
			if r := e.run("rollback"); r.code != ExitOK {
				t.Fatalf("rollback: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			wantServed(t, frontend, "green v1")
			r = e.run("status")
			if r.code != ExitOK || !strings.Contains(r.stdout, "traffic: green (load balancer)") {
				t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// useSwitcher points the deploy configuration at the switcher rawURL and
// appends extra lines to its deploy: section.
func (e *deployEnv) useSwitcher(rawURL, extra string) {
	e.t.Helper()
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	s := strings.Replace(string(cfg), fmt.Sprintf("%q", e.lb.Switcher), fmt.Sprintf("%q", rawURL), 1) + extra
	if err := os.WriteFile(e.config, []byte(s), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// wantServed checks that SequentialRequests-like runs of requests through
// frontend all answer want.
func wantServed(t *testing.T, frontend, want string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for i := range 10 {
		resp, err := client.Get(frontend)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != want {
			t.Fatalf("request %d through the frontend: status %d %q (%v), want %q", i+1, resp.StatusCode, body, err, want)
		}
	}
}

// weightLog records the distinct weights an HTTPRoute's first rule held.
type weightLog struct {
	mu     sync.Mutex
	states []string
}

func (w *weightLog) seen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.states)
}

// watchWeights reads the weights of the route's first rule every 10ms
// until t ends.
func watchWeights(t *testing.T, c *k8stest.Cluster, ns, route string) *weightLog {
	w := &weightLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if s, err := firstRuleWeights(ctx, c, ns, route); err == nil {
				w.mu.Lock()
				if len(w.states) == 0 || w.states[len(w.states)-1] != s {
					w.states = append(w.states, s)
				}
				w.mu.Unlock()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// firstRuleWeights is "web-blue 70 web-green 30": the backendRefs of the
// route's first rule.
func firstRuleWeights(ctx context.Context, c *k8stest.Cluster, ns, route string) (string, error) {
	refs, err := c.RouteBackends(ctx, ns, route)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = fmt.Sprintf("%s %d", r.Service, r.Weight)
	}
	return strings.Join(parts, " "), nil
}
