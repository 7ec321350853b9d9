// Package k8stest gives tests the Kubernetes control plane that
// scripts/k8s-testenv.sh starts on loopback: a real kube-apiserver, etcd and
// kube-controller-manager (endpoints, endpointslice, namespace and
// garbage-collector controllers), with the Gateway API CRDs, and no kubelet,
// scheduler or kube-proxy.
//
//	scripts/k8s-testenv.sh up && eval "$(scripts/k8s-testenv.sh env)"
//	go test ./switcher/kubernetes/... && go test ./internal/cli/ -run TestDeployKubernetes
//
// Connect finds it through $KUBECONFIG. Without one, or when KUBECONFIG
// names another cluster (one without the script's kubelet-less Node: the
// tests create Pods that a real cluster would try to run), a test
// skips with one line saying how to start it; in CI (package ci) it
// fails instead.
//
// Each test gets a namespace of its own (Cluster.Namespace). Pods are API
// objects bound to the kubelet-less Node and marked Ready through the status
// subresource, with documentation-range IPs (192.0.2.0/24 for blue,
// 198.51.100.0/24 for green) that nothing connects to; the endpointslice
// controller fills the Services' EndpointSlices from them as in a real
// cluster. Frontends stand in for the missing data plane: they route each
// request by what the API server says at that moment (see ServiceFrontend).
package k8stest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/bgmigrate/bgmigrate/switcher"
)

// NodeLabel marks the Node that scripts/k8s-testenv.sh creates; Pods are
// bound to it.
const NodeLabel = "bgmigrate.dev/k8s-testenv"

// Start is how to get the control plane, for messages.
const Start = `scripts/k8s-testenv.sh up && eval "$(scripts/k8s-testenv.sh env)"`

// The resources the helpers create.
var (
	Namespaces      = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	Nodes           = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	Pods            = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	Services        = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	ServiceAccounts = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	EndpointSlices  = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
	Roles           = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	RoleBindings    = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	HTTPRoutes      = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
)

// Cluster is the control plane, reached as its admin.
type Cluster struct {
	// Kubeconfig is the file $KUBECONFIG names, for switcher URLs
	// (kubeconfig=).
	Kubeconfig string
	Config     *rest.Config
	Dyn        dynamic.Interface
	// Node is the kubelet-less Node Pods are bound to.
	Node string
}

var connected struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Connect returns the control plane, or ends t: a skip outside CI, a
// failure with CI=true.
func Connect(t testing.TB) *Cluster {
	t.Helper()
	connected.once.Do(func() { connected.c, connected.err = connect() })
	if connected.err != nil {
		ci.Unavailable(t, "k8stest: no Kubernetes control plane for this test: %v (start one: %s)", connected.err, Start)
	}
	return connected.c
}

func connect() (*Cluster, error) {
	env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar)
	if env == "" {
		return nil, errors.New("KUBECONFIG is not set")
	}
	path := filepath.SplitList(env)[0]
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("KUBECONFIG %s: %w", path, err)
	}
	cfg.QPS = -1 // no client-side rate limit: the frontends read on every request
	cfg.Timeout = 30 * time.Second
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nodes, err := dyn.Resource(Nodes).List(ctx, metav1.ListOptions{LabelSelector: NodeLabel + "=kubelet-less"})
	if err != nil {
		return nil, fmt.Errorf("KUBECONFIG %s (%s): %w", path, cfg.Host, err)
	}
	if len(nodes.Items) == 0 {
		return nil, fmt.Errorf("KUBECONFIG %s names %s, which has no Node labelled %s=kubelet-less: not the control plane of scripts/k8s-testenv.sh", path, cfg.Host, NodeLabel)
	}
	return &Cluster{Kubeconfig: path, Config: cfg, Dyn: dyn, Node: nodes.Items[0].GetName()}, nil
}

// callCtx returns a context for one call of a helper. It is not t's
// context, which is done before cleanups run.
func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// Namespace creates a namespace for t and deletes it when t ends, its Pods
// first and at once (with no kubelet a graceful delete never ends).
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	name := "bgm-" + strings.ToLower(rand.String(8))
	c.Create(t, Namespaces, "", map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}})
	t.Cleanup(func() {
		ctx, cancel := callCtx()
		defer cancel()
		zero := int64(0)
		if err := c.Dyn.Resource(Pods).Namespace(name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{}); err != nil {
			t.Errorf("k8stest: delete the pods of namespace %s: %v", name, err)
		}
		if err := c.Dyn.Resource(Namespaces).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("k8stest: delete namespace %s: %v", name, err)
		}
	})
	return name
}

// Create creates obj (an unstructured object's content) in namespace ns
// ("" for a cluster-scoped one) and returns it as the API server stored it.
func (c *Cluster) Create(t testing.TB, gvr schema.GroupVersionResource, ns string, obj map[string]any) *unstructured.Unstructured {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	u := &unstructured.Unstructured{Object: obj}
	got, err := c.resource(gvr, ns).Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("k8stest: create %s %s/%s: %v", gvr.Resource, ns, u.GetName(), err)
	}
	return got
}

// Get reads an object.
func (c *Cluster) Get(t testing.TB, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	got, err := c.resource(gvr, ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("k8stest: get %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return got
}

func (c *Cluster) resource(gvr schema.GroupVersionResource, ns string) dynamic.ResourceInterface {
	if ns == "" {
		return c.Dyn.Resource(gvr)
	}
	return c.Dyn.Resource(gvr).Namespace(ns)
}

// Service creates a Service with selector, port 80 to 8080.
func (c *Cluster) Service(t testing.TB, ns, name string, selector map[string]string) {
	t.Helper()
	c.Create(t, Services, ns, map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"selector": anyMap(selector),
			"ports":    []any{map[string]any{"name": "http", "port": int64(80), "targetPort": int64(8080)}},
		},
	})
}

// Pod creates a Pod bound to the Node, running with IP ip and Ready.
func (c *Cluster) Pod(t testing.TB, ns, name, ip string, labels map[string]string) {
	t.Helper()
	c.Create(t, Pods, ns, map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "labels": anyMap(labels)},
		"spec": map[string]any{
			"nodeName":                     c.Node,
			"automountServiceAccountToken": false,
			"containers":                   []any{map[string]any{"name": "app", "image": "example.invalid/app:1"}},
		},
	})
	c.patchStatus(t, ns, name, map[string]any{
		"phase": "Running", "podIP": ip, "podIPs": []any{map[string]any{"ip": ip}},
		"conditions": readyConditions(true),
	})
}

func readyConditions(ready bool) []any {
	s := "False"
	if ready {
		s = "True"
	}
	return []any{
		map[string]any{"type": "Ready", "status": s},
		map[string]any{"type": "ContainersReady", "status": s},
	}
}

// SetReady sets the Ready condition of a Pod through the status
// subresource, as a kubelet would after its readiness probe.
func (c *Cluster) SetReady(t testing.TB, ns, name string, ready bool) {
	t.Helper()
	c.patchStatus(t, ns, name, map[string]any{"conditions": readyConditions(ready)})
}

func (c *Cluster) patchStatus(t testing.TB, ns, name string, status map[string]any) {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	body, err := (&unstructured.Unstructured{Object: map[string]any{"status": status}}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dyn.Resource(Pods).Namespace(ns).Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("k8stest: patch the status of pod %s/%s: %v", ns, name, err)
	}
}

// Terminate deletes a Pod gracefully: with no kubelet to finish the
// delete, it stays terminating (deletionTimestamp set) until Gone or the
// namespace goes.
func (c *Cluster) Terminate(t testing.TB, ns, name string) {
	t.Helper()
	c.deletePod(t, ns, name, 300)
	if p := c.Get(t, Pods, ns, name); p.GetDeletionTimestamp() == nil {
		t.Fatalf("k8stest: pod %s/%s has no deletionTimestamp after a graceful delete", ns, name)
	}
}

// Gone deletes a Pod at once (grace period 0), as the kubelet does once a
// terminating Pod's containers have exited.
func (c *Cluster) Gone(t testing.TB, ns, name string) {
	t.Helper()
	c.deletePod(t, ns, name, 0)
}

func (c *Cluster) deletePod(t testing.TB, ns, name string, grace int64) {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	if err := c.Dyn.Resource(Pods).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatalf("k8stest: delete pod %s/%s (grace period %ds): %v", ns, name, grace, err)
	}
}

// App is a Service NAME whose selector is app=NAME,color=blue, with Pods
// NAME-blue-I and NAME-green-I, all Ready; Pods lists them per color.
type App struct {
	Namespace, Name string
	Pods            map[switcher.Color][]string
}

// App creates an App with n Pods per color and waits until the Service's
// EndpointSlices list the blue Pods.
func (c *Cluster) App(t testing.TB, ns, name string, n int) *App {
	t.Helper()
	a := &App{Namespace: ns, Name: name, Pods: map[switcher.Color][]string{}}
	c.Service(t, ns, name, map[string]string{"app": name, "color": "blue"})
	for _, color := range []switcher.Color{switcher.Blue, switcher.Green} {
		for i := range n {
			pod := fmt.Sprintf("%s-%s-%d", name, color, i)
			c.Pod(t, ns, pod, PodIP(color, i), map[string]string{"app": name, "color": string(color)})
			a.Pods[color] = append(a.Pods[color], pod)
		}
	}
	c.WaitEndpoints(t, ns, name, a.Pods[switcher.Blue]...)
	return a
}

// PodIP is the documentation-range address of the i-th Pod of color.
func PodIP(color switcher.Color, i int) string {
	if color == switcher.Green {
		return fmt.Sprintf("198.51.100.%d", 10+i)
	}
	return fmt.Sprintf("192.0.2.%d", 10+i)
}

// Endpoint is one endpoint of a Service's EndpointSlices.
type Endpoint struct {
	Pod                         string
	Ready, Serving, Terminating bool
}

// String is "pod" with the conditions that are set: "web-blue-0 ready serving".
func (e Endpoint) String() string {
	s := e.Pod
	for _, c := range []struct {
		on   bool
		name string
	}{{e.Ready, "ready"}, {e.Serving, "serving"}, {e.Terminating, "terminating"}} {
		if c.on {
			s += " " + c.name
		}
	}
	return s
}

// Endpoints lists the endpoints of the Service's EndpointSlices, sorted.
func (c *Cluster) Endpoints(ctx context.Context, ns, service string) ([]Endpoint, error) {
	list, err := c.Dyn.Resource(EndpointSlices).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + service})
	if err != nil {
		return nil, err
	}
	var out []Endpoint
	for _, sl := range list.Items {
		eps, _, _ := unstructured.NestedSlice(sl.Object, "endpoints")
		for _, e := range eps {
			m, _ := e.(map[string]any)
			var ep Endpoint
			ep.Pod, _, _ = unstructured.NestedString(m, "targetRef", "name")
			ep.Ready = condition(m, "ready", true)
			ep.Serving = condition(m, "serving", ep.Ready)
			ep.Terminating = condition(m, "terminating", false)
			out = append(out, ep)
		}
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

func condition(ep map[string]any, name string, unset bool) bool {
	if v, found, _ := unstructured.NestedBool(ep, "conditions", name); found {
		return v
	}
	return unset
}

// WaitEndpoints waits up to 30s until the ready endpoints of the Service's
// EndpointSlices are exactly the Pods named.
func (c *Cluster) WaitEndpoints(t testing.TB, ns, service string, pods ...string) {
	t.Helper()
	want := slices.Sorted(slices.Values(pods))
	c.WaitFor(t, fmt.Sprintf("the ready endpoints of service %s/%s to be %v", ns, service, want), func(ctx context.Context) (bool, string, error) {
		eps, err := c.Endpoints(ctx, ns, service)
		var ready []string
		for _, e := range eps {
			if e.Ready {
				ready = append(ready, e.Pod)
			}
		}
		slices.Sort(ready)
		return slices.Equal(ready, want), fmt.Sprint(eps), err
	})
}

// WaitFor polls cond every 20ms for up to 30s; it ends t with what cond
// last said when that passes.
func (c *Cluster) WaitFor(t testing.TB, what string, cond func(context.Context) (done bool, state string, err error)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var state string
	for {
		ctx, cancel := callCtx()
		done, s, err := cond(ctx)
		cancel()
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("k8stest: waiting for %s: %v", what, err)
		}
		if done {
			return
		}
		state = s
		if time.Now().After(deadline) {
			t.Fatalf("k8stest: waited 30s for %s; now: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ColorServices creates the Services NAME-blue and NAME-green, each
// selecting the App's Pods of one color, waits until their EndpointSlices
// list those Pods and returns their names.
func (c *Cluster) ColorServices(t testing.TB, a *App) map[switcher.Color]string {
	t.Helper()
	names := map[switcher.Color]string{}
	for _, color := range []switcher.Color{switcher.Blue, switcher.Green} {
		names[color] = a.Name + "-" + string(color)
		c.Service(t, a.Namespace, names[color], map[string]string{"app": a.Name, "color": string(color)})
	}
	for color, svc := range names {
		c.WaitEndpoints(t, a.Namespace, svc, a.Pods[color]...)
	}
	return names
}

// HTTPRoute creates an HTTPRoute whose rules hold the backendRefs given
// (see Ref), the first rule for path prefix /, the others for /rN.
func (c *Cluster) HTTPRoute(t testing.TB, ns, name string, rules ...[]any) {
	t.Helper()
	rs := make([]any, len(rules))
	for i, refs := range rules {
		path := "/"
		if i > 0 {
			path = fmt.Sprintf("/r%d", i)
		}
		rs[i] = map[string]any{
			"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": path}}},
			"backendRefs": refs,
		}
	}
	c.Create(t, HTTPRoutes, ns, map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"parentRefs": []any{map[string]any{"name": "gw"}}, "rules": rs},
	})
}

// Ref is a backendRef to Service svc, port 80, with weight; a negative
// weight leaves it out (the Gateway API then reads 1).
func Ref(svc string, weight int64) any {
	ref := map[string]any{"name": svc, "port": int64(80)}
	if weight >= 0 {
		ref["weight"] = weight
	}
	return ref
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
