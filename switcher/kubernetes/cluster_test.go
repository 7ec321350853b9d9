package kubernetes_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// TestConformanceAgainstRealCluster runs the suite against the cluster
// $KUBECONFIG names, on throwaway Services (selector
// app=bgmigrate-test,color=…, no Pods) in $BGMIGRATE_K8S_NAMESPACE
// (default "default"). It needs services: create, get, patch, delete.
func TestConformanceAgainstRealCluster(t *testing.T) {
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("KUBECONFIG not set: no Kubernetes cluster to test against (none exists in CI or on the project's machines); " +
			"set KUBECONFIG (and optionally BGMIGRATE_K8S_NAMESPACE) to run the conformance suite against a real cluster")
	}
	namespace := os.Getenv("BGMIGRATE_K8S_NAMESPACE")
	if namespace == "" {
		namespace = "default"
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", kubeconfig, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	services := dyn.Resource(servicesGVR).Namespace(namespace)
	switchertest.Run(t, switchertest.Harness{
		Name: "kubernetes-service-real-cluster",
		Open: func(t *testing.T) switchertest.Instance {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			name := fmt.Sprintf("bgmigrate-test-%08x", rand.Uint32())
			svc := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1",
				"kind":       "Service",
				"metadata":   map[string]any{"name": name, "labels": map[string]any{"app.kubernetes.io/created-by": "bgmigrate-test"}},
				"spec": map[string]any{
					"selector": map[string]any{"app": "bgmigrate-test", "color": "blue"},
					"ports":    []any{map[string]any{"name": "http", "port": int64(80)}},
				},
			}}
			if _, err := services.Create(ctx, svc, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create service %s/%s: %v", namespace, name, err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := services.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
					t.Errorf("delete service %s/%s: %v", namespace, name, err)
				}
			})
			s, err := switcher.Open(ctx, "kubernetes://"+namespace+"/"+name)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return switchertest.Instance{Switcher: s}
		},
	})
}
