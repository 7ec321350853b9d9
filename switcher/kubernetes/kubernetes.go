// Package kubernetes switches traffic inside a Kubernetes cluster, either by
// rewriting the selector of a Service or by shifting the backendRef weights
// of a Gateway API HTTPRoute. It registers the schemes kubernetes and k8s:
//
//	kubernetes://NAMESPACE/SERVICE?label=color
//	kubernetes://NAMESPACE/service/SERVICE?label=color&blue=v1&green=v2&wait=endpoints&timeout=2m
//	kubernetes://NAMESPACE/httproute/NAME?blue=app-blue&green=app-green
//
// # Service
//
// The Service's spec.selector holds one label (label=, default "color")
// whose value names the active color; Switch changes that one key with a
// strategic-merge patch and leaves the other selector keys alone. The label
// values default to "blue" and "green" and can be renamed with blue= and
// green=. A Service is not Weighted: the selector sends all traffic to one
// color.
//
// With wait=endpoints, Switch returns only once the Service's
// EndpointSlices list at least one ready endpoint and every ready endpoint
// belongs to a Pod matching the new selector (so the old color has left the
// slices), or fails after timeout= (default 2m). Without it, Switch returns
// as soon as the API server has accepted the new selector. The Service is
// patched either way: a failed wait leaves the selector on the new color.
//
// # HTTPRoute
//
// blue= and green= (both required) name the Services the route's
// backendRefs point at. Every rule that references one of them must
// reference both; SetWeights writes the two weights (percent and
// 100-percent) into every such rule with a JSON patch whose test operations
// guard against concurrent edits; Switch is SetWeights(color, 100). Weights
// and Active read the first such rule back (a backendRef without weight
// counts as 1, as in the Gateway API). The route is read and written through
// the dynamic client as gateway.networking.k8s.io/v1 httproutes, so no
// Gateway API Go module is needed.
//
// # Connection
//
// kubeconfig=PATH (and optionally context=NAME) selects a kubeconfig;
// without it $KUBECONFIG is used; without that the in-cluster service
// account (rest.InClusterConfig); outside a cluster ~/.kube/config as
// kubectl does.
//
// Every object, Services, Pods and EndpointSlices included, is read and
// written as unstructured through the dynamic client: the typed clientset
// would register the scheme of every API group when any bgmigrate command
// starts, since the binary links every provider.
//
// # RBAC
//
// Services: get, patch. With wait=endpoints, and for InFlight, also pods:
// list and endpointslices.discovery.k8s.io: list. HTTPRoutes: get, patch
// on httproutes.gateway.networking.k8s.io. A request RBAC refuses fails
// with an error that wraps fs.ErrPermission ("permission denied") and
// names these rules; the object is left as it was.
//
// # In flight
//
// A Service switcher is a switcher.InFlightReader: InFlight counts the
// Pods of a color that may still serve requests, those the Service's
// EndpointSlices list as serving and those terminating until they are
// gone. Kubernetes counts no requests: it is a count of Pods.
//
// # Tests
//
// The tests run against client-go's fakes and, through package k8stest,
// against the real kube-apiserver and kube-controller-manager that
// scripts/k8s-testenv.sh starts.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() {
	switcher.Register("kubernetes", open)
	switcher.Register("k8s", open)
}

const provider = "kubernetes"

// Kind is the kind of object a Target switches.
type Kind string

const (
	KindService   Kind = "service"
	KindHTTPRoute Kind = "httproute"
)

// Defaults used when a URL leaves them out.
const (
	DefaultLabel        = "color"
	DefaultWaitTimeout  = 2 * time.Minute
	DefaultPollInterval = time.Second
)

// Target is what a switcher changes, as parsed from its URL.
type Target struct {
	Namespace string
	Kind      Kind
	Name      string
	// Label is the Service selector key naming the color (Services only).
	Label string
	// Values maps each color to the selector value (Services) or to the
	// backend Service name (HTTPRoutes).
	Values map[switcher.Color]string
	// WaitEndpoints makes Switch wait for the EndpointSlices of the new
	// selector (Services only), at most WaitTimeout, polling every
	// PollInterval.
	WaitEndpoints bool
	WaitTimeout   time.Duration
	PollInterval  time.Duration
}

// String names the object as namespace/kind/name.
func (t Target) String() string { return t.Namespace + "/" + string(t.Kind) + "/" + t.Name }

func (t Target) ref() string { return string(t.Kind) + " " + t.Namespace + "/" + t.Name }

// connection holds the query parameters that choose the cluster.
var connectionKeys = map[string]bool{"kubeconfig": true, "context": true}

// ParseTarget reads a kubernetes:// URL. Unknown query parameters are
// errors; kubeconfig and context are accepted and left to Open.
func ParseTarget(u *url.URL) (Target, error) {
	fail := func(format string, args ...any) (Target, error) {
		return Target{}, fmt.Errorf("kubernetes switcher URL %q: %s", u.Redacted(), fmt.Sprintf(format, args...))
	}
	t := Target{Namespace: u.Host, Label: DefaultLabel, WaitTimeout: DefaultWaitTimeout, PollInterval: DefaultPollInterval}
	if t.Namespace == "" {
		return fail("missing namespace (want %s://NAMESPACE/SERVICE)", u.Scheme)
	}
	if errs := validation.IsDNS1123Label(t.Namespace); len(errs) > 0 {
		return fail("namespace %q: %s", t.Namespace, strings.Join(errs, "; "))
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		t.Kind, t.Name = KindService, parts[0]
	case len(parts) == 2 && (parts[0] == "service" || parts[0] == "svc"):
		t.Kind, t.Name = KindService, parts[1]
	case len(parts) == 2 && parts[0] == "httproute":
		t.Kind, t.Name = KindHTTPRoute, parts[1]
	default:
		return fail("path %q: want /SERVICE, /service/NAME or /httproute/NAME", u.Path)
	}
	if errs := validation.IsDNS1123Subdomain(t.Name); len(errs) > 0 {
		return fail("%s name %q: %s", t.Kind, t.Name, strings.Join(errs, "; "))
	}

	q := u.Query()
	for key := range q {
		switch key {
		case "label", "wait", "timeout":
			if t.Kind != KindService {
				return fail("%s= applies to Services only", key)
			}
		case "blue", "green":
		default:
			if !connectionKeys[key] {
				return fail("unknown parameter %q", key)
			}
		}
	}
	if v := q.Get("label"); v != "" {
		if errs := validation.IsQualifiedName(v); len(errs) > 0 {
			return fail("label %q: %s", v, strings.Join(errs, "; "))
		}
		t.Label = v
	}
	t.Values = map[switcher.Color]string{switcher.Blue: q.Get("blue"), switcher.Green: q.Get("green")}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if t.Values[c] != "" {
			continue
		}
		if t.Kind == KindHTTPRoute {
			return fail("missing %s= (the backend Service of the %s color)", c, c)
		}
		t.Values[c] = string(c)
	}
	if t.Values[switcher.Blue] == t.Values[switcher.Green] {
		return fail("blue and green are both %q", t.Values[switcher.Blue])
	}
	switch w := q.Get("wait"); w {
	case "", "none":
	case "endpoints":
		t.WaitEndpoints = true
	default:
		return fail("wait=%q (want endpoints or none)", w)
	}
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fail("timeout=%q: want a positive duration such as 90s", v)
		}
		t.WaitTimeout = d
	}
	return t, nil
}

// New returns the switcher for target over the dynamic client dyn: a
// Service switcher, or for an HTTPRoute a switcher.Weighted. New does no
// I/O, so tests can pass a fake client.
func New(dyn dynamic.Interface, target Target) (switcher.Switcher, error) {
	if target.WaitTimeout <= 0 {
		target.WaitTimeout = DefaultWaitTimeout
	}
	if target.PollInterval <= 0 {
		target.PollInterval = DefaultPollInterval
	}
	if target.Label == "" {
		target.Label = DefaultLabel
	}
	if target.Values[switcher.Blue] == "" || target.Values[switcher.Green] == "" || target.Values[switcher.Blue] == target.Values[switcher.Green] {
		return nil, fmt.Errorf("kubernetes switcher %s: blue and green need two distinct values", target)
	}
	if target.Kind != KindService && target.Kind != KindHTTPRoute {
		return nil, fmt.Errorf("kubernetes switcher: unknown kind %q", target.Kind)
	}
	if dyn == nil {
		return nil, errors.New("kubernetes switcher: nil dynamic client")
	}
	if target.Kind == KindHTTPRoute {
		return &HTTPRoute{dyn: dyn, t: target}, nil
	}
	return &Service{dyn: dyn, t: target}, nil
}

func open(ctx context.Context, u *url.URL) (switcher.Switcher, error) {
	t, err := ParseTarget(u)
	if err != nil {
		return nil, err
	}
	cfg, err := restConfig(u.Query().Get("kubeconfig"), u.Query().Get("context"))
	if err != nil {
		return nil, fmt.Errorf("kubernetes switcher %s: %w", t, err)
	}
	cfg.UserAgent = "bgmigrate"
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes switcher %s: %w", t, err)
	}
	s, err := New(dyn, t)
	if err != nil {
		return nil, err
	}
	// Fail at open, not at the switch, when the object is missing or
	// does not name a color.
	if _, err := s.Active(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// restConfig finds the cluster: an explicit kubeconfig, then $KUBECONFIG,
// then the in-cluster service account, then ~/.kube/config.
func restConfig(path, kubeContext string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	switch {
	case path != "":
		rules.ExplicitPath = path
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		// rules.Precedence already holds the $KUBECONFIG list.
	case kubeContext == "":
		cfg, err := rest.InClusterConfig()
		if err == nil {
			return cfg, nil
		}
		if !errors.Is(err, rest.ErrNotInCluster) {
			return nil, err
		}
		home := clientcmd.RecommendedHomeFile
		if _, statErr := os.Stat(home); statErr != nil {
			return nil, fmt.Errorf("no kubeconfig= parameter, no $KUBECONFIG, not in a cluster and no %s", filepath.ToSlash(home))
		}
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
}

func (t Target) colorOf(value string) (switcher.Color, bool) {
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if t.Values[c] == value {
			return c, true
		}
	}
	return "", false
}

func (t Target) providerError(op string, err error) error {
	return &switcher.ProviderError{Provider: provider, Op: op, Target: t.ref(), Err: err}
}
