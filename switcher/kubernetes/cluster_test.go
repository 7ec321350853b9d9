package kubernetes_test

// The tests in this file run against the real kube-apiserver and
// kube-controller-manager of scripts/k8s-testenv.sh (see package k8stest):
// they skip without it, and fail with CI=true.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bgmigrate/bgmigrate/switcher"
	k8sswitch "github.com/bgmigrate/bgmigrate/switcher/kubernetes"
	"github.com/bgmigrate/bgmigrate/switcher/kubernetes/k8stest"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// clusterURL is a switcher URL for the object path of namespace ns on
// cluster c, with query q and the admin's kubeconfig.
func clusterURL(c *k8stest.Cluster, ns, path string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	if q.Get("kubeconfig") == "" {
		q.Set("kubeconfig", c.Kubeconfig)
	}
	return "kubernetes://" + ns + "/" + path + "?" + q.Encode()
}

// openFast opens the switcher rawURL names as switcher.Open does, over
// the admin's client, polling the endpoints every 20ms rather than every
// second so that the suite's many switches stay quick.
func openFast(t *testing.T, c *k8stest.Cluster, rawURL string) switcher.Switcher {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	target, err := k8sswitch.ParseTarget(u)
	if err != nil {
		t.Fatal(err)
	}
	target.PollInterval = 20 * time.Millisecond
	sw, err := k8sswitch.New(c.Dyn, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Active(t.Context()); err != nil {
		t.Fatalf("Active: %v", err)
	}
	return sw
}

// backends maps every Pod of a to the switchertest backend of its color.
func backends(a *k8stest.App, b *switchertest.Backends) k8stest.Backends {
	out := k8stest.Backends{}
	for color, pods := range a.Pods {
		for _, p := range pods {
			out[p] = b.Addr(color)
		}
	}
	return out
}

// TestConformanceServiceAgainstCluster: a Service whose selector switches
// between two Pods of each color, with wait=endpoints. The frontend sends
// each request to a ready endpoint of the Service's EndpointSlices as the
// API server holds them, so every request after Switch returns reaching the
// new color means the slices name only its Pods by then.
func TestConformanceServiceAgainstCluster(t *testing.T) {
	t.Parallel()
	c := k8stest.Connect(t)
	switchertest.Run(t, switchertest.Harness{
		Name: "kubernetes-service-cluster",
		Open: func(t *testing.T) switchertest.Instance {
			ns := c.Namespace(t)
			a := c.App(t, ns, "web", 2)
			b := switchertest.StartBackends(t)
			sw := openFast(t, c, clusterURL(c, ns, "service/web", url.Values{"wait": {"endpoints"}, "timeout": {"30s"}}))
			return switchertest.Instance{Switcher: sw, Frontend: c.ServiceFrontend(t, ns, "web", backends(a, b))}
		},
	})
}

// TestConformanceHTTPRouteAgainstCluster: an HTTPRoute whose two rules
// point at the Services web-blue and web-green; the frontend picks a
// backendRef by the route's weights as the API server holds them.
func TestConformanceHTTPRouteAgainstCluster(t *testing.T) {
	t.Parallel()
	c := k8stest.Connect(t)
	switchertest.Run(t, switchertest.Harness{
		Name: "kubernetes-httproute-cluster",
		Open: func(t *testing.T) switchertest.Instance {
			ns := c.Namespace(t)
			a := c.App(t, ns, "web", 1)
			svcs := c.ColorServices(t, a)
			c.HTTPRoute(t, ns, "web",
				[]any{k8stest.Ref(svcs[switcher.Blue], 100), k8stest.Ref(svcs[switcher.Green], 0)},
				[]any{k8stest.Ref(svcs[switcher.Green], 0), k8stest.Ref(svcs[switcher.Blue], 100), k8stest.Ref("other", 5)},
			)
			t.Cleanup(func() { wantOtherRef(t, c, ns, "web") })
			b := switchertest.StartBackends(t)
			sw := switchertest.Open(t, clusterURL(c, ns, "httproute/web", url.Values{"blue": {svcs[switcher.Blue]}, "green": {svcs[switcher.Green]}}))
			return switchertest.Instance{Switcher: sw, Frontend: c.RouteFrontend(t, ns, "web", backends(a, b))}
		},
	})
}

// wantOtherRef checks that the third backendRef of the route's second
// rule, to neither color, still has its weight of 5.
func wantOtherRef(t *testing.T, c *k8stest.Cluster, ns, route string) {
	t.Helper()
	obj := c.Get(t, k8stest.HTTPRoutes, ns, route)
	rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
	refs, _, _ := unstructured.NestedSlice(rules[1].(map[string]any), "backendRefs")
	var w int64
	if len(refs) == 3 {
		w, _, _ = unstructured.NestedInt64(refs[2].(map[string]any), "weight")
	}
	if w != 5 {
		t.Errorf("the backendRefs of rule 1 are now %v, want the one to \"other\" left at weight 5", refs)
	}
}

// TestClusterWaitEndpoints: Switch with wait=endpoints returns once the
// EndpointSlices name only the new color's ready Pods (a green Pod that is
// not ready stays out), and times out, with the selector on the new color,
// when no Pod of it is ready.
func TestClusterWaitEndpoints(t *testing.T) {
	t.Parallel()
	c := k8stest.Connect(t)
	ns := c.Namespace(t)
	a := c.App(t, ns, "web", 3)
	c.SetReady(t, ns, a.Pods[switcher.Green][2], false)
	sw := openFast(t, c, clusterURL(c, ns, "service/web", url.Values{"wait": {"endpoints"}, "timeout": {"30s"}}))
	ctx := t.Context()
	if err := sw.Switch(ctx, switcher.Green); err != nil {
		t.Fatalf("Switch(green): %v", err)
	}
	eps, err := c.Endpoints(ctx, ns, "web")
	if err != nil {
		t.Fatal(err)
	}
	var ready []string
	for _, e := range eps {
		if e.Ready {
			ready = append(ready, e.Pod)
		}
	}
	if want := a.Pods[switcher.Green][:2]; !slices.Equal(ready, want) {
		t.Fatalf("ready endpoints right after Switch(green) = %v (all: %v), want %v", ready, eps, want)
	}

	// No blue Pod is ready: the wait gives up after its timeout.
	for _, p := range a.Pods[switcher.Blue] {
		c.SetReady(t, ns, p, false)
	}
	slow := openFast(t, c, clusterURL(c, ns, "service/web", url.Values{"wait": {"endpoints"}, "timeout": {"1s"}}))
	err = slow.Switch(ctx, switcher.Blue)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not ready after 1s") {
		t.Fatalf("Switch(blue) with no ready blue Pod = %v, want a timeout", err)
	}
	if got, err := sw.Active(ctx); err != nil || got != switcher.Blue {
		t.Fatalf("Active after the timed-out switch = %v, %v; want blue (the selector is patched either way)", got, err)
	}
}

// TestClusterMissingObjects: opening a switcher for a Service or an
// HTTPRoute that does not exist fails with switcher.ErrNotFound.
func TestClusterMissingObjects(t *testing.T) {
	t.Parallel()
	c := k8stest.Connect(t)
	ns := c.Namespace(t)
	for _, u := range []string{
		clusterURL(c, ns, "service/nothing", nil),
		clusterURL(c, ns, "httproute/nothing", url.Values{"blue": {"a"}, "green": {"b"}}),
		clusterURL(c, "no-such-namespace", "service/web", nil),
	} {
		sw, err := switcher.Open(t.Context(), u)
		if err == nil {
			sw.Close()
		}
		if !errors.Is(err, switcher.ErrNotFound) {
			t.Errorf("Open(%s) = %v, want switcher.ErrNotFound", u, err)
		}
	}
}

// TestClusterRBACRefused: with a token that may get but not patch, Switch
// fails with fs.ErrPermission naming the rules needed, and the object stays
// as it was.
func TestClusterRBACRefused(t *testing.T) {
	t.Parallel()
	c := k8stest.Connect(t)
	ns := c.Namespace(t)
	a := c.App(t, ns, "web", 1)
	svcs := c.ColorServices(t, a)
	c.HTTPRoute(t, ns, "web", []any{k8stest.Ref(svcs[switcher.Blue], 100), k8stest.Ref(svcs[switcher.Green], 0)})
	kubeconfig, user := c.ServiceAccount(t, ns, "reader",
		k8stest.Rule{Resources: []string{"services"}, Verbs: []string{"get"}},
		k8stest.Rule{Group: "gateway.networking.k8s.io", Resources: []string{"httproutes"}, Verbs: []string{"get"}},
	)
	for _, tc := range []struct {
		path string
		q    url.Values
		want string
	}{
		{"service/web", url.Values{}, "get, patch on services"},
		{"httproute/web", url.Values{"blue": {svcs[switcher.Blue]}, "green": {svcs[switcher.Green]}}, "get, patch on httproutes.gateway.networking.k8s.io"},
	} {
		tc.q.Set("kubeconfig", kubeconfig)
		sw := switchertest.Open(t, clusterURL(c, ns, tc.path, tc.q))
		err := sw.Switch(t.Context(), switcher.Green)
		var pe *switcher.ProviderError
		if !errors.Is(err, fs.ErrPermission) || !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), user) {
			t.Errorf("%s: Switch(green) as %s = %v, want a *switcher.ProviderError wrapping fs.ErrPermission that names %q", tc.path, user, err, tc.want)
		}
		if got, err := switchertest.Open(t, clusterURL(c, ns, tc.path, url.Values{"blue": tc.q["blue"], "green": tc.q["green"]})).Active(t.Context()); err != nil || got != switcher.Blue {
			t.Errorf("%s: Active after the refused switch = %v, %v; want blue", tc.path, got, err)
		}
	}
	// The selector is unchanged down to its other keys.
	svc := c.Get(t, k8stest.Services, ns, "web")
	if sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector"); sel["app"] != "web" || sel["color"] != "blue" || len(sel) != 2 {
		t.Errorf("selector after the refused switch = %v", sel)
	}
}

// TestClusterInFlight: InFlight counts the Pods of a color that may still
// serve requests: the ready ones the EndpointSlices list, and terminating
// ones until they are gone, even once they fail their readiness or the
// selector names the other color; the others count 0.
func TestClusterInFlight(t *testing.T) {
	t.Parallel()
	c := k8stest.Connect(t)
	ns := c.Namespace(t)
	a := c.App(t, ns, "web", 3)
	sw := openFast(t, c, clusterURL(c, ns, "service/web", url.Values{"wait": {"endpoints"}, "timeout": {"30s"}}))
	r, ok := sw.(switcher.InFlightReader)
	if !ok {
		t.Fatalf("%T is not a switcher.InFlightReader", sw)
	}
	want := func(color switcher.Color, n int, why string) {
		t.Helper()
		c.WaitFor(t, why, func(ctx context.Context) (bool, string, error) {
			got, ok, err := r.InFlight(ctx, color)
			eps, _ := c.Endpoints(ctx, ns, "web")
			return err == nil && ok && got == n, fmt.Sprintf("InFlight(%s) = %d, %t, %v; endpoints %v", color, got, ok, err, eps), nil
		})
	}
	want(switcher.Blue, 3, "the 3 ready blue Pods")
	want(switcher.Green, 0, "no green Pod (not selected)")

	blue := a.Pods[switcher.Blue]
	c.SetReady(t, ns, blue[0], false)
	want(switcher.Blue, 2, "a blue Pod no longer ready")
	c.Terminate(t, ns, blue[1])
	want(switcher.Blue, 2, "a terminating blue Pod still ready")
	c.SetReady(t, ns, blue[1], false)
	want(switcher.Blue, 2, "a terminating blue Pod failing its readiness, still finishing its requests")

	if err := sw.Switch(t.Context(), switcher.Green); err != nil {
		t.Fatalf("Switch(green): %v", err)
	}
	want(switcher.Green, 3, "green after the switch")
	want(switcher.Blue, 1, "blue after the switch: the terminating Pod only")
	c.Gone(t, ns, blue[1])
	want(switcher.Blue, 0, "blue once its terminating Pod is gone")

	if _, _, err := r.InFlight(t.Context(), "purple"); err == nil {
		t.Error("InFlight(purple) succeeded, want an error")
	}
}
