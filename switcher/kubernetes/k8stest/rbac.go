package k8stest

import (
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Rule is one RBAC rule of a Role: verbs on resources of an API group
// ("" for the core group).
type Rule struct {
	Group     string
	Resources []string
	Verbs     []string
}

// ServiceAccount creates the ServiceAccount name in ns, a Role holding
// rules bound to it, and a token for it from the TokenRequest API, and
// writes a kubeconfig that authenticates with that token. It returns the
// kubeconfig's path and the account's user name
// (system:serviceaccount:NS:NAME).
func (c *Cluster) ServiceAccount(t testing.TB, ns, name string, rules ...Rule) (kubeconfig, user string) {
	t.Helper()
	c.Create(t, ServiceAccounts, ns, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": name}})
	var rs []any
	for _, r := range rules {
		rs = append(rs, map[string]any{"apiGroups": anys(r.Group), "resources": anys(r.Resources...), "verbs": anys(r.Verbs...)})
	}
	c.Create(t, Roles, ns, map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
		"metadata": map[string]any{"name": name}, "rules": rs,
	})
	c.Create(t, RoleBindings, ns, map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": name},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": name, "namespace": ns}},
	})

	ctx, cancel := callCtx()
	defer cancel()
	req := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"expirationSeconds": int64(3600)},
	}}
	resp, err := c.Dyn.Resource(ServiceAccounts).Namespace(ns).Create(ctx, req, metav1.CreateOptions{}, "token")
	if err != nil {
		t.Fatalf("k8stest: TokenRequest for serviceaccount %s/%s: %v", ns, name, err)
	}
	token, _, _ := unstructured.NestedString(resp.Object, "status", "token")
	if token == "" {
		t.Fatalf("k8stest: TokenRequest for serviceaccount %s/%s returned no token: %v", ns, name, resp.Object["status"])
	}

	raw, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := raw.DeepCopy()
	for user := range cfg.AuthInfos {
		cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	}
	kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, "system:serviceaccount:" + ns + ":" + name
}

func anys(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
