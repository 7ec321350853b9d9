package k8stest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// Backends maps a Pod's name to the host:port of the local HTTP server
// that answers for it (a switchertest backend, a testapp).
type Backends map[string]string

// ServiceFrontend serves HTTP on 127.0.0.1 until t ends and returns its
// URL. It stands in for kube-proxy, which a kubelet-less cluster lacks:
// each request lists the Service's EndpointSlices, picks one of the ready
// endpoints at random and is proxied to the backend of its Pod. It sees the
// slices as the API server holds them when the request arrives, as an
// ideal kube-proxy would: what it checks is that the switcher leaves the
// slices, not a proxy's copy of them, where it says.
func (c *Cluster) ServiceFrontend(t testing.TB, ns, service string, b Backends) string {
	t.Helper()
	return c.serve(t, func(ctx context.Context) (string, error) { return c.pick(ctx, ns, service, b) })
}

// RouteFrontend is ServiceFrontend for an HTTPRoute, standing in for a
// Gateway: each request reads the route, picks a backendRef of its first
// rule by weight (an absent weight is 1) and then a ready endpoint of that
// Service as ServiceFrontend does.
func (c *Cluster) RouteFrontend(t testing.TB, ns, route string, b Backends) string {
	t.Helper()
	return c.serve(t, func(ctx context.Context) (string, error) {
		svc, err := c.pickBackendRef(ctx, ns, route)
		if err != nil {
			return "", err
		}
		return c.pick(ctx, ns, svc, b)
	})
}

type addrKey struct{}

func (c *Cluster) serve(t testing.TB, pick func(context.Context) (string, error)) string {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = pr.In.Context().Value(addrKey{}).(string)
		},
		Transport: tr,
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, err := pick(r.Context())
		if err != nil {
			http.Error(w, "k8stest frontend: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), addrKey{}, addr)))
	})
	ln := switchertest.Listen(t)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("k8stest frontend: %v", err)
		}
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
		tr.CloseIdleConnections()
	})
	return "http://" + ln.Addr().String() + "/"
}

// pick returns the backend of a ready endpoint of the Service.
func (c *Cluster) pick(ctx context.Context, ns, service string, b Backends) (string, error) {
	eps, err := c.Endpoints(ctx, ns, service)
	if err != nil {
		return "", err
	}
	var ready []string
	for _, e := range eps {
		if e.Ready {
			ready = append(ready, e.Pod)
		}
	}
	if len(ready) == 0 {
		return "", fmt.Errorf("service %s/%s has no ready endpoint (%v)", ns, service, eps)
	}
	pod := ready[rand.IntN(len(ready))]
	addr, ok := b[pod]
	if !ok {
		return "", fmt.Errorf("no backend for pod %s/%s", ns, pod)
	}
	return addr, nil
}

// pickBackendRef returns the Service of a backendRef of the route's first
// rule, chosen by weight.
func (c *Cluster) pickBackendRef(ctx context.Context, ns, route string) (string, error) {
	refs, err := c.RouteBackends(ctx, ns, route)
	if err != nil {
		return "", err
	}
	var total int64
	for _, r := range refs {
		total += r.Weight
	}
	if total == 0 {
		return "", fmt.Errorf("httproute %s/%s: every backendRef of rule 0 has weight 0", ns, route)
	}
	n := rand.Int64N(total)
	for _, r := range refs {
		if n < r.Weight {
			return r.Service, nil
		}
		n -= r.Weight
	}
	panic("unreachable")
}

// BackendRef is a backendRef of an HTTPRoute: the Service it names and its
// weight (1 when absent, as the Gateway API reads it).
type BackendRef struct {
	Service string
	Weight  int64
}

// RouteBackends reads the backendRefs of the route's first rule.
func (c *Cluster) RouteBackends(ctx context.Context, ns, route string) ([]BackendRef, error) {
	obj, err := c.Dyn.Resource(HTTPRoutes).Namespace(ns).Get(ctx, route, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
	if len(rules) == 0 {
		return nil, fmt.Errorf("httproute %s/%s has no rule", ns, route)
	}
	rule, _ := rules[0].(map[string]any)
	refs, _, _ := unstructured.NestedSlice(rule, "backendRefs")
	out := make([]BackendRef, len(refs))
	for i, r := range refs {
		m, _ := r.(map[string]any)
		out[i].Service, _, _ = unstructured.NestedString(m, "name")
		out[i].Weight = 1
		if w, found, _ := unstructured.NestedInt64(m, "weight"); found {
			out[i].Weight = w
		}
	}
	return out, nil
}
